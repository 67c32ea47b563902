"""rl: GRPO after select, from the best SFT adapter, with the gate score / 10 as the reward.

Reads models/base, models/best-adapter, data/export/pool.jsonl (the prompts practised on) and val.jsonl.
Each step samples `rl.num_generations` answers to each of `rl.prompts_per_step` pool prompts with the
batched engine (distilloop/student/generation.py, at rl.temperature), scores them with the gate
(score_records: every task, user scorers and judges alike) and takes one on-policy GRPO step
(distilloop/training/grpo.py). The SFT adapter is loaded twice: a frozen "reference" (the KL term) and the
trained "default". Every `rl.eval_every` steps, and at step 0, the greedy val answers are scored as
evaluate scores them; the best val pass rate's adapter is kept, `rl.patience` evaluations without a better
one stop the run, and the reward-hacking guard stops it with one line when the training reward rises while
the independent check falls (grpo.hacking).

Writes models/rl-adapter: the RL adapter when it beat step 0 (the SFT adapter) on the val pass rate, else
a copy of models/best-adapter, so merge_lora merges whichever is better. metrics/rl.json says which, with
the evaluations, speeds and the share of groups skipped, and the shipped adapter's test figures beside the
best epoch's (an RL adapter answers test once, after it was chosen on val; quantise compares the GGUFs
with these); metrics/plots/rl.json is the per-step curve.
runs/rl/checkpoints (persist in dvc.yaml) holds the state after every step: a run killed (or sent
SIGTERM: it finishes the step, saves, exits 143) resumes from it when the inputs and params are the same.
`rl.enabled: false` loads no model: models/rl-adapter is models/best-adapter, and the metrics say so.
"""

from __future__ import annotations

from pathlib import Path

from distilloop import UserError
from distilloop.command import ParamsOption, load_params, run_command
from distilloop.config import Params
from distilloop.console import console, summary_table
from distilloop.io import read_json, read_records, write_json
from distilloop.paths import BASE_DIR, BEST_ADAPTER, METRICS_DIR, PLOTS_DIR, RL_ADAPTER, RL_RUN_DIR, export_split
from distilloop.training.adapters import copy_adapter
from distilloop.training.rl import evaluate_test, practise, summarise, test_figures


def sft_test_figures(best_path: Path) -> dict | None:
    """The best epoch's test figures (metrics/best.json), or None where select has not written them."""
    return test_figures(read_json(best_path).get("test") or {}) if best_path.exists() else None


def pass_through(
    params: Params, sft_adapter: Path, out_dir: Path, run_dir: Path, metrics_path: Path, best_test: dict | None
) -> dict:
    copy_adapter(sft_adapter, out_dir)
    write_json(run_dir / "checkpoints" / "run.json", {"enabled": False})  # a DVC output: present, nothing to resume
    metrics = {
        "enabled": False,
        "adapter": "sft",
        "steps": 0,
        "note": f"rl.enabled is false: {out_dir} = {sft_adapter}",
    }
    if best_test is not None:
        metrics["test"] = best_test
    write_json(metrics_path, metrics)
    write_json(PLOTS_DIR / "rl.json", [])
    console.print(f"rl: disabled (rl.enabled: false); {out_dir} = {sft_adapter}")
    return metrics


def run(
    params: Params,
    model_dir: Path = BASE_DIR,
    sft_adapter: Path = BEST_ADAPTER,
    out_dir: Path = RL_ADAPTER,
    run_dir: Path = RL_RUN_DIR,
    metrics_path: Path = METRICS_DIR / "rl.json",
    on_checkpoint=None,
    best_path: Path = METRICS_DIR / "best.json",
) -> dict:
    config = params.rl
    if not (sft_adapter / "adapter_config.json").exists():
        raise UserError(f"{sft_adapter}: no LoRA adapter here (run select first)")
    sft_test = sft_test_figures(best_path)
    if not config.enabled:
        return pass_through(params, sft_adapter, out_dir, run_dir, metrics_path, sft_test)
    pool, val = read_records(export_split("pool")), read_records(export_split("val"))
    if not pool or not val:
        raise UserError(
            f"rl: needs pool and val prompts ({len(pool)} pool, {len(val)} val in {export_split('pool').parent})"
        )

    from distilloop.training import grpo
    from distilloop.training.adapters import save_adapter

    checkpoints = run_dir / "checkpoints"
    state, resumed_from, model, tokenizer = practise(
        params, model_dir, sft_adapter, pool, val, checkpoints, on_checkpoint
    )
    beat = state["best_step"] > 0
    test = sft_test
    if beat:
        grpo.load_trainable(model, state["best"])
        save_adapter(model, out_dir, {"method": "grpo", "step": state["best_step"], "from": str(sft_adapter)})
        test = evaluate_test(model, tokenizer, params, read_records(export_split("test")))
    else:
        copy_adapter(sft_adapter, out_dir)
    (checkpoints / grpo.STATE_FILE).unlink(missing_ok=True)
    write_json(
        checkpoints / "run.json", {"fingerprint": state["fingerprint"], "completed_steps": state["step"]}
    )  # what ran here
    metrics = summarise(state, beat, resumed_from, test, sft_test)
    write_json(metrics_path, metrics)
    write_json(PLOTS_DIR / "rl.json", state["curve"])
    print_summary(metrics, out_dir)
    return metrics


def print_summary(metrics: dict, out_dir: Path) -> None:
    rows = [
        (e["step"], f"{e['pass_rate']:.1%}", "-" if e["independent"] is None else f"{e['independent']:.3f}",
         "-" if e["train_reward"] is None else f"{e['train_reward']:.3f}", e["mean_tokens"], f"{e['truncation_rate']:.1%}")
        for e in metrics["evals"]
    ]  # fmt: skip
    columns = ("step", "val pass", "independent", "train reward", "mean tokens", "truncated")
    console.print(summary_table("rl: GRPO on the gate's reward", columns, rows))
    console.print(
        f"rl: {metrics['steps']} steps ({metrics['stopped']}), {metrics['skipped_fraction']} of the groups skipped, "
        f"{metrics['generation']['tokens_per_second']} tokens/s; {out_dir} = the {metrics['adapter']} adapter"
    )
    if metrics["beat_sft"] and metrics["sft_test"]:  # reported only: the adapter was chosen on val
        rl, sft = metrics["test"], metrics["sft_test"]
        console.print(f"rl: test pass rate {rl['pass_rate']:.1%} (the best SFT epoch: {sft['pass_rate']:.1%})")


def main(params_file: ParamsOption = Path("params.yaml")):
    """GRPO from the best SFT adapter with the gate as the reward; models/rl-adapter is the better on val."""
    run(load_params(params_file))


if __name__ == "__main__":
    run_command(main)
