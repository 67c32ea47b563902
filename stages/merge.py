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

import random
from pathlib import Path
from typing import Annotated

import typer

from distilloop import UserError
from distilloop.command import ParamsOption, load_params, run_command
from distilloop.config import MergeParams, Params
from distilloop.console import console, summary_table
from distilloop.gate.verdict import AcceptRule, accept_rule
from distilloop.io import read_records, write_jsonl
from distilloop.paths import bank_file, epoch_dir

TRAIN_KEYS = ("id", "prompt", "completion", "source")


def added_at(record: dict) -> int:
    """The epoch that added a bank record (seed: 0)."""
    if "epoch" in record:
        return int(record["epoch"])
    source = str(record.get("source", ""))
    return int(source.split("@")[1]) if "@" in source else 0


def example(record_id: str, prompt: str, completion: str, source: str, epoch: int) -> dict:
    """A bank record: what train@N trains on, where it came from and the epoch that added it."""
    return {"id": record_id, "prompt": prompt, "completion": completion, "source": source, "epoch": epoch}


def accepted_examples(corrections: list[dict], epoch: int) -> tuple[list[dict], list[dict], int]:
    """(train records, preference pairs, corrections not accepted) of this epoch, one per prompt."""
    examples: dict[str, dict] = {}
    pairs: dict[str, dict] = {}
    not_accepted = 0
    for correction in corrections:
        if not correction.get("accepted") or not correction.get("correction"):
            not_accepted += 1
            continue
        prompt = correction["prompt"]
        examples[prompt] = example(correction["id"], prompt, correction["correction"], f"correction@{epoch}", epoch)
        pairs[prompt] = {
            "id": correction["id"],
            "prompt": prompt,
            "chosen": correction["correction"],
            "rejected": correction["student_output"],
        }
    return list(examples.values()), list(pairs.values()), not_accepted


def passing_answers(scored: list[dict], epoch: int, rule: AcceptRule) -> list[dict]:
    """The student's own pool answers the accept rule takes, as examples (rejection sampling)."""
    return [
        example(r["id"], r["prompt"], r["output"], f"self@{epoch}", epoch)
        for r in scored
        if r.get("output") and rule.accepts(r)
    ]


def accepted_tasks(augmented: list[dict], epoch: int) -> list[dict]:
    """The teacher's new tasks that passed every check (distilloop/teachers/augment.py), as examples."""
    return [
        example(r["id"], r["prompt"], r["completion"], f"augment@{epoch}", epoch)
        for r in augmented
        if r.get("accepted")
    ]


def lesson(
    bank: list[dict], corrections: list[dict], self_taught: list[dict], epoch: int, config: MergeParams
) -> list[dict]:
    """This epoch's train set. A record's `weight` is how many times it is trained on per pass."""
    unlearnt_seed = [record for record in bank if record["source"] == "seed"] if epoch == 1 else []
    if not corrections and not unlearnt_seed:
        return []  # nothing fails now and nothing is new: nothing to learn
    weighted = [{**record, "weight": config.failure_weight} for record in corrections]
    new_prompts = {record["prompt"] for record in corrections}
    if config.strategy == "cumulative":
        return [record for record in bank if record["prompt"] not in new_prompts] + weighted
    # targeted: what the current adapter has not been trained on, plus a replay sample of what it has
    fresh = weighted + self_taught + unlearnt_seed
    fresh_prompts = {record["prompt"] for record in fresh}
    earlier = [record for record in bank if record["prompt"] not in fresh_prompts]
    count = min(len(earlier), round(config.replay * (len(corrections) + len(self_taught))))
    return fresh + random.Random(f"replay@{epoch}").sample(earlier, count)


def merge(
    previous: list[dict],
    corrections: list[dict],
    epoch: int,
    config: MergeParams,
    self_taught: list[dict] = (),
    augmented: list[dict] = (),
    seed_pairs: list[dict] = (),
) -> tuple[list[dict], list[dict], list[dict], dict]:
    """(bank N, lesson N, pairs N, counts). Dicts keep insertion order, so replaced records keep their place."""
    bank: dict[str, dict] = {}
    for record in previous:
        bank[record["prompt"]] = {**record, "epoch": added_at(record)}  # a duplicate prompt: the later line wins
    examples, pairs, not_accepted = accepted_examples(corrections, epoch)
    corrected = {example["prompt"] for example in examples}
    self_taught = [record for record in self_taught if record["prompt"] not in corrected]
    augmented = [record for record in augmented if record["prompt"] not in corrected]
    counts = {
        "previous": len(previous),
        "added": 0,
        "replaced": 0,
        "not accepted": not_accepted,
        "self-taught": len(self_taught),
        "augmented": len(augmented),
    }
    for record in [*examples, *self_taught, *augmented]:
        counts["replaced" if record["prompt"] in bank else "added"] += 1
        bank[record["prompt"]] = record
    taught = lesson(list(bank.values()), examples, [*self_taught, *augmented], epoch, config)
    counts["bank"], counts["lesson"] = len(bank), sum(record.get("weight", 1) for record in taught)
    pairs = {**{pair["prompt"]: pair for pair in seed_pairs}, **{pair["prompt"]: pair for pair in pairs}}
    counts["pairs"] = len(pairs)
    return list(bank.values()), taught, list(pairs.values()), counts


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
