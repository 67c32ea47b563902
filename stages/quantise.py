"""quantise: the merged model as GGUF files for llama.cpp and Ollama, each scored again by the gate.

llama.cpp's converter writes an f16 GGUF, llama_model_quantize makes q8_0 and q4_k_m from it, and a
Modelfile lets `ollama create` use the smallest. Then every GGUF answers the test split through
llama.cpp with the student's generation settings and stop rules (distilloop/student/decoding.py, distilloop/student/stopping.py:
the very semantics of the generation engine) and the gate scores the answers. The reference is the
merged model's own test figures through the engine — the best epoch's, since merge_lora proved
merged == base+adapter, or the RL adapter's when the rl stage shipped one — reported side by side with every type's (pass rate, mean score, and for the
profile task Pearson/Spearman r and the mean absolute error).
The stage fails when a type loses more than `quantise.max_pass_rate_drop` of the test pass rate, or more
than `quantise.max_relative_pass_rate_drop` of the merged model's passes (a small pass rate can lose most
of itself in a small absolute drop).
Writes models/gguf/ and metrics/quantise.json.
"""

from __future__ import annotations

from pathlib import Path

from distilloop import UserError
from distilloop.command import ParamsOption, load_params, run_command
from distilloop.config import Params
from distilloop.console import console, summary_table
from distilloop.io import read_records, write_json
from distilloop.loop.summary import SUMMARY_PATH, headline, merged_reference
from distilloop.paths import GGUF_DIR, MERGED_DIR, METRICS_DIR, export_split
from distilloop.release import gguf as llama_tools
from distilloop.release.answers import answer_with_gguf, build_ggufs, stop_tokens


def run(
    params: Params,
    merged_dir: Path = MERGED_DIR,
    out_dir: Path = GGUF_DIR,
    metrics_path: Path = METRICS_DIR / "quantise.json",
    reference: dict | None = None,
    summary_path: Path | None = SUMMARY_PATH,
) -> dict:
    from distilloop.gate.agreement import judgment
    from distilloop.gate.scoring import score_records, summarise

    config = params.quantise
    if not Path(merged_dir).is_dir():
        raise UserError(f"{merged_dir}: merged model not found (run merge_lora first)")
    test = read_records(export_split("test"))
    if not test:
        raise UserError("quantise: the test split is empty; nothing to score the GGUF files on")
    if reference is None:
        reference = merged_reference()

    files = build_ggufs(Path(merged_dir), Path(out_dir), config.types, params.runtime.threads)
    smallest = min(files, key=lambda kind: files[kind].stat().st_size)
    (Path(out_dir) / "Modelfile").write_text(
        llama_tools.modelfile(
            files[smallest].name,
            params.student.system_prompt,
            stop_tokens(Path(merged_dir)),
            config.ollama_temperature,
            config.n_ctx,
            params.student.repetition_penalty,
            params.student.repeat_last_n,
        )
    )

    types = {}
    for kind, path in files.items():
        scored = score_records(answer_with_gguf(test, path, params, f"{kind} test"), params.gate)
        summary = summarise(scored, params.gate)
        tokens = sum(record["gen"]["tokens"] for record in scored)
        seconds = sum(record["gen"]["seconds"] for record in scored)
        types[kind] = {
            "size_bytes": path.stat().st_size,
            "pass_rate": summary["pass_rate"],
            "mean_score": summary["mean_score"],
            "truncation_rate": summary["truncation_rate"],
            **{key: summary[key] for key in judgment([]) if key in summary},  # json_record: r, MAE
            "pass_rate_drop": round(reference["pass_rate"] - summary["pass_rate"], 4),
            "mean_score_delta": round(summary["mean_score"] - reference["mean_score"], 4),
            "tokens_per_second": round(tokens / seconds, 1) if seconds else 0.0,
        }
    metrics = {
        "merged": reference,
        "types": types,
        "max_pass_rate_drop": config.max_pass_rate_drop,
        "max_relative_pass_rate_drop": config.max_relative_pass_rate_drop,
        "modelfile_model": files[smallest].name,
    }
    write_json(metrics_path, metrics)
    if summary_path is not None:  # the run's headline, DVC's metrics file
        best = {"epoch": reference.get("epoch"), "test": reference}
        write_json(summary_path, headline(sorted(int(epoch) for epoch in params.loop.epochs), best, metrics))

    def r(figures: dict) -> str:
        return "-" if figures.get("pearson_r") is None else f"{figures['pearson_r']:.3f}"

    console.print(
        summary_table(
            f"quantise: test split ({len(test)} prompts), the merged model through the engine and each GGUF through llama.cpp",
            ("model", "size MB", "pass rate", "drop", "mean score", "Pearson r", "tokens/s"),
            [
                (
                    merged_label(reference),
                    "",
                    f"{reference['pass_rate']:.2f}",
                    "",
                    f"{reference['mean_score']:.2f}",
                    r(reference),
                    "",
                )
            ]
            + [
                (
                    kind,
                    f"{t['size_bytes'] / 2**20:.0f}",
                    f"{t['pass_rate']:.2f}",
                    f"{t['pass_rate_drop']:+.2f}",
                    f"{t['mean_score']:.2f}",
                    r(t),
                    t["tokens_per_second"],
                )
                for kind, t in types.items()
            ],
        )
    )
    worst = max(types, key=lambda kind: types[kind]["pass_rate_drop"])
    if types[worst]["pass_rate_drop"] > config.max_pass_rate_drop:
        raise UserError(
            f"quantise: {worst} loses {types[worst]['pass_rate_drop']:.2f} of the test pass rate "
            f"(> quantise.max_pass_rate_drop {config.max_pass_rate_drop:g})"
        )
    if reference["pass_rate"] > 0:
        kept = types[worst]["pass_rate"] / reference["pass_rate"]
        if 1 - kept > config.max_relative_pass_rate_drop:
            raise UserError(
                f"quantise: {worst} keeps {kept:.0%} of the merged model's test passes "
                f"({types[worst]['pass_rate']:.2f} of {reference['pass_rate']:.2f}; "
                f"> quantise.max_relative_pass_rate_drop {config.max_relative_pass_rate_drop:g} lost)"
            )
    return metrics


def merged_label(reference: dict) -> str:
    return f"merged (rl step {reference['rl_step']})" if reference.get("rl_step") else "merged"


def main(params_file: ParamsOption = Path("params.yaml")):
    """GGUF files of the merged model (f16, q8_0, q4_k_m) and an Ollama Modelfile, each scored again."""
    run(load_params(params_file))


if __name__ == "__main__":
    run_command(main)
