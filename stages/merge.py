"""merge@N: train set N = train set N-1 + the accepted corrections of epoch N, one record per prompt.

Reads runs/epoch-(N-1)/train.jsonl and runs/epoch-N/corrections.jsonl; writes runs/epoch-N/train.jsonl
and runs/epoch-N/pairs.jsonl (this epoch's preference pairs: chosen = the accepted correction,
rejected = the student's answer). A correction replaces an earlier record with the same prompt in
place (the newest wins); rejected and failed corrections are never trained on.
"""

from __future__ import annotations

from pathlib import Path

from stages import UserError
from stages.console import console, summary_table
from stages.records import epoch_dir, read_records, write_jsonl

TRAIN_KEYS = ("id", "prompt", "completion", "source")


def merge(previous: list[dict], corrections: list[dict], epoch: int) -> tuple[list[dict], list[dict], dict]:
    """(train set, pairs, counts). Dicts keep insertion order, so replaced records keep their place."""
    train: dict[str, dict] = {}
    for record in previous:
        train[record["prompt"]] = record  # a duplicate prompt in N-1: the later line wins
    counts = {"previous": len(previous), "added": 0, "replaced": 0, "not accepted": 0}
    pairs: dict[str, dict] = {}
    for correction in corrections:
        if not correction.get("accepted") or not correction.get("correction"):
            counts["not accepted"] += 1
            continue
        prompt = correction["prompt"]
        counts["replaced" if prompt in train else "added"] += 1
        train[prompt] = {"id": correction["id"], "prompt": prompt, "completion": correction["correction"],
                         "source": f"correction@{epoch}"}
        pairs[prompt] = {"id": correction["id"], "prompt": prompt, "chosen": correction["correction"],
                         "rejected": correction["student_output"]}
    counts["train"], counts["pairs"] = len(train), len(pairs)
    return list(train.values()), list(pairs.values()), counts


def _check(records: list[dict], keys: tuple[str, ...], path: Path) -> None:
    for number, record in enumerate(records, start=1):
        missing = [key for key in keys if key not in record]
        if missing:
            raise UserError(f"{path}:{number}: missing {', '.join(map(repr, missing))}")


def run(epoch: int, previous_path: Path | None = None, corrections_path: Path | None = None,
        out_dir: Path | None = None) -> dict:
    previous_path = previous_path or epoch_dir(epoch - 1) / "train.jsonl"
    corrections_path = corrections_path or epoch_dir(epoch) / "corrections.jsonl"
    out_dir = out_dir or epoch_dir(epoch)
    previous, corrections = read_records(previous_path), read_records(corrections_path)
    _check(previous, TRAIN_KEYS, previous_path)
    _check(corrections, ("id", "prompt", "student_output", "correction", "accepted"), corrections_path)

    train, pairs, counts = merge(previous, corrections, epoch)
    write_jsonl(Path(out_dir) / "train.jsonl", train)
    write_jsonl(Path(out_dir) / "pairs.jsonl", pairs)
    rows = [(name, count) for name, count in counts.items()]
    console.print(summary_table(f"merge@{epoch}: {previous_path} + {corrections_path} -> {out_dir}",
                                ("", "records"), rows))
    return counts
