"""The bank and the lesson: merge@N's rules (stages/merge.py reads and writes the files).

The bank holds every accepted example so far, one record per prompt (a correction replaces an earlier
record of its prompt in place); the lesson is what train@N trains on, drawn from the bank by
`merge.strategy` (targeted: this epoch's corrections weighted up plus a replay sample; cumulative: the whole
bank with this epoch's corrections weighted up). Records carry the epoch that added them.
"""

from __future__ import annotations

import random

from distilloop.config import MergeParams
from distilloop.gate.verdict import AcceptRule

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
