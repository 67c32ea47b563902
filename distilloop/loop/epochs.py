"""One epoch's answers and scores: the student with an adapter answers pool, val and test, the gate
scores them (baseline and evaluate@N share this), and the convergence decision evaluate@N records.
"""

from __future__ import annotations

from pathlib import Path

from distilloop.config import Params
from distilloop.console import console, summary_table
from distilloop.gate.verdict import accept_rule
from distilloop.io import dir_digest, read_json, read_records, write_jsonl
from distilloop.loop import pool_slice
from distilloop.paths import BASE_DIR, SCORED_SPLITS, TRAINED_ON, epoch_dir, epoch_metrics, export_split
from distilloop.student.generation import answer_records
from distilloop.student.model import load_student


def adapter_digest(adapter_dir: Path) -> str:
    """The adapter's weights and config: train@N stamps what it trained on into the copy of adapter N-1
    it hands on when training did not improve val, and that alone must not make it a new adapter."""
    return dir_digest(adapter_dir, exclude=(TRAINED_ON,))


def answer_and_score(records: list[dict], model, tokenizer, params: Params, label: str) -> tuple[list[dict], dict]:
    """The student answers `records`, the gate scores them: (scored records, the gate's summary)."""
    from distilloop.gate.scoring import score_records, summarise

    if not records:
        return [], {"count": 0}
    answered = answer_records(records, model, tokenizer, params.student, description=label)
    scored = score_records(answered, params.gate)
    return scored, summarise(scored, params.gate)


def score_epoch(
    params: Params,
    epoch: int,
    adapter_dir: Path,
    model_dir: Path = BASE_DIR,
    adapter_sha256: str | None = None,
    splits: tuple[str, ...] = SCORED_SPLITS,
    metrics: dict | None = None,
) -> dict:
    """Answer and score `splits` (pool, val and test) with `adapter_dir` (its digest, when the caller has
    it); write the scored splits of `epoch`. Returns the epoch's metrics without the convergence decision."""
    model, tokenizer = load_student(model_dir, adapter_dir, params.student, threads=params.runtime.threads)
    # select depends on these metrics only: naming the adapter's bytes here ties it to the adapter too
    metrics = {**(metrics or {}), "epoch": epoch, "adapter_sha256": adapter_sha256 or adapter_digest(adapter_dir)}
    prompts = tokens = 0
    seconds = 0.0  # generation only: each record's share of its batch's wall time, scoring excluded
    for split in splits:
        records = read_records(export_split(split))
        if split == "pool":  # the prompts the next epoch practises on
            records = pool_slice(records, epoch + 1, params.loop.pool_per_epoch)
        scored, metrics[split] = answer_and_score(records, model, tokenizer, params, f"epoch {epoch} {split}")
        write_jsonl(epoch_dir(epoch) / f"{split}.scored.jsonl", scored)
        prompts += len(scored)
        tokens += sum(record["gen"]["tokens"] for record in scored)
        seconds += sum(record["gen"]["seconds"] for record in scored)
    metrics["generation"] = {
        "prompts": prompts,
        "tokens": tokens,
        "seconds": round(seconds, 2),
        "tokens_per_second": round(tokens / seconds, 1) if seconds else 0.0,
    }
    return metrics


def convergence(params: Params, epoch: int, pool: dict) -> dict:
    """Did the last `loop.patience` epochs up to `epoch` all meet the criteria? Earlier epochs' figures
    come from their metrics files; a missing one means not (yet) converged, with the reason."""
    window = list(range(epoch - params.loop.patience + 1, epoch + 1))
    result = {"converged": False, "epochs": window, "pool_mean_scores": [], "corrections_requested": []}
    if window[0] < 1:
        return {**result, "reason": f"fewer than loop.patience={params.loop.patience} trained epochs"}
    for n in window:
        mean = pool.get("mean_score") if n == epoch else read_optional(epoch_metrics(n), "pool", "mean_score")
        requested = read_optional(epoch_metrics(n, "-correct"), "requested")
        result["pool_mean_scores"].append(mean)
        result["corrections_requested"].append(requested)
        if mean is None or requested is None:
            return {**result, "reason": f"epoch {n}: pool mean score or corrections requested unknown"}
        if not accept_rule(params).reaches(mean):
            return {**result, "reason": f"epoch {n}: pool mean score {mean:.2f} < quality_threshold"}
        if requested > params.loop.converge_max_corrections:
            return {**result, "reason": f"epoch {n}: {requested} corrections > loop.converge_max_corrections"}
    return {**result, "converged": True, "reason": "criteria met"}


def read_optional(path: Path, *keys: str):
    if not path.exists():
        return None
    value = read_json(path)
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def carry_over(epoch: int) -> dict:
    """Epoch N-1's scored splits and metrics as epoch N's. Only for the very adapter N-1 (same bytes):
    the student params and the gate are deps of both epochs' stages, so its answers and scores would
    come out the same, at the cost of a full generation pass."""
    for split in SCORED_SPLITS:
        write_jsonl(
            epoch_dir(epoch) / f"{split}.scored.jsonl", read_records(epoch_dir(epoch - 1) / f"{split}.scored.jsonl")
        )
    metrics = {
        key: value
        for key, value in read_json(epoch_metrics(epoch - 1)).items()
        if key not in ("converged", "converged_at", "convergence", "passed_through")
    }
    return {**metrics, "epoch": epoch, "carried_over": f"adapter {epoch} = adapter {epoch - 1}: its answers and scores"}


def print_summary(title: str, metrics: dict) -> None:
    rows = []
    for split, summary in metrics.items():
        if isinstance(summary, dict) and "count" in summary:
            if not summary["count"]:
                rows.append((split, 0, "-", "-", "-"))
                continue
            rows.append(
                (
                    split,
                    summary["count"],
                    f"{summary['pass_rate']:.1%}",
                    f"{summary['mean_score']:.2f}",
                    f"{summary['truncation_rate']:.1%}",
                )
            )
    console.print(summary_table(title, ("split", "records", "pass rate", "mean score", "truncated"), rows))
    if "generation" in metrics:
        gen = metrics["generation"]
        console.print(
            f"generation: {gen['prompts']} prompts, {gen['tokens']} tokens, {gen['tokens_per_second']} tokens/s"
        )
    if "converged" in metrics:
        console.print(
            f"converged: {metrics['converged']}"
            + (f" ({metrics['convergence']['reason']})" if "convergence" in metrics else "")
        )
