"""merge@N: what epoch N learns. Every example accepted so far is kept in the bank; train@N trains on
this epoch's lesson, drawn from it by `merge.strategy`.

Reads runs/epoch-(N-1)/bank.jsonl (the bank: every accepted example so far), runs/epoch-N/corrections.jsonl
and runs/epoch-(N-1)/pool.scored.jsonl (the student's own answers, for `merge.self_training`). Writes
  runs/epoch-N/bank.jsonl    the bank N: bank N-1 + this epoch's accepted corrections (one record per
                             prompt; a correction replaces an earlier record of its prompt in place)
  runs/epoch-N/lesson.jsonl  what train@N trains on:
                               targeted    the corrections of the items that fail now, each `failure_weight`
                                           times, plus a replay sample of earlier examples (`replay` per new
                                           one) so the student does not forget what it passes; at epoch 1
                                           the whole seed train set is new too
                               cumulative  the whole bank, this epoch's corrections `failure_weight` times
                             Empty when nothing fails now: train@N is then skipped.
  runs/epoch-N/pairs.jsonl   preference pairs: the seed's (export rows with a `rejected` answer, kept every
                             epoch) and this epoch's (chosen = the correction, rejected = the student's answer)
The new tasks the teacher wrote and the gate accepted (runs/epoch-N/augmented.jsonl, `correct.augment`)
join the bank as new examples, trained on once per pass like the student's own passing answers.
Rejected and failed corrections are never trained on. Records carry the epoch that added them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from distilloop import UserError
from distilloop.command import ParamsOption, load_params, run_command
from distilloop.config import Params
from distilloop.console import console, summary_table
from distilloop.gate.verdict import accept_rule
from distilloop.io import read_records, write_jsonl
from distilloop.loop.lesson import TRAIN_KEYS, accepted_tasks, merge, passing_answers
from distilloop.paths import bank_file, epoch_dir


def _check(records: list[dict], keys: tuple[str, ...], path: Path) -> None:
    for number, record in enumerate(records, start=1):
        missing = [key for key in keys if key not in record]
        if missing:
            raise UserError(f"{path}:{number}: missing {', '.join(map(repr, missing))}")


def run(
    params: Params,
    epoch: int,
    previous_path: Path | None = None,
    corrections_path: Path | None = None,
    out_dir: Path | None = None,
) -> dict:
    config = params.merge
    previous_path = previous_path or bank_file(epoch - 1)
    corrections_path = corrections_path or epoch_dir(epoch) / "corrections.jsonl"
    out_dir = out_dir or epoch_dir(epoch)
    previous, corrections = read_records(previous_path), read_records(corrections_path)
    _check(previous, TRAIN_KEYS, previous_path)
    _check(corrections, ("id", "prompt", "student_output", "correction", "accepted"), corrections_path)
    self_taught = []
    if config.self_training:
        scored_path = previous_path.parent / "pool.scored.jsonl"
        self_taught = passing_answers(read_records(scored_path), epoch, accept_rule(params))

    augmented_path = Path(corrections_path).parent / "augmented.jsonl"  # correct@N writes it, empty when off
    augmented = read_records(augmented_path) if augmented_path.exists() else []
    _check(augmented, ("id", "prompt", "completion", "accepted"), augmented_path)

    previous_pairs = previous_path.parent / "pairs.jsonl"
    seed_pairs = (
        [p for p in read_records(previous_pairs) if p.get("source") == "seed"] if previous_pairs.exists() else []
    )
    bank, taught, pairs, counts = merge(
        previous, corrections, epoch, config, self_taught, accepted_tasks(augmented, epoch), seed_pairs
    )
    write_jsonl(Path(out_dir) / bank_file(epoch).name, bank)
    write_jsonl(Path(out_dir) / "lesson.jsonl", taught)
    write_jsonl(Path(out_dir) / "pairs.jsonl", pairs)
    rows = [(name, count) for name, count in counts.items()]
    console.print(
        summary_table(
            f"merge@{epoch} ({config.strategy}): {previous_path} + {corrections_path} -> {out_dir}",
            ("", "records"),
            rows,
        )
    )
    return counts


def main(
    epoch: Annotated[int, typer.Option(min=1, help="epoch N: bank N-1 + accepted corrections of N")],
    out: Annotated[Path | None, typer.Option(help="output directory (default runs/epoch-N)")] = None,
    params_file: ParamsOption = Path("params.yaml"),
):
    """Add the accepted corrections to the bank of examples; write this epoch's lesson and preference pairs."""
    run(load_params(params_file), epoch, out_dir=out)


if __name__ == "__main__":
    run_command(main)
