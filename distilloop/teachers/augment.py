"""Augmentation (LLM2LLM): the teacher writes new tasks like each item the student fails, with answers.

correct@N asks, for every failing item whose correction the gate accepted, `correct.augment` new tasks
of the same kind (`teacher.augment_template`, shown the task and its verified answer); the reply is a
JSON array of {"prompt", "answer"} objects. A new task is trained on only when
  - the same gate and accept rule as a correction let its answer through. The seed's reference
    and harness belong to another task, so they do not come along: a C answer is judged on compiling,
    MISRA, style and the protocol facts it states, a JSON record on parse and schema;
  - its prompt is no near-duplicate of any val or test prompt (that would leak the held-out splits into
    training; export.near_duplicate_threshold, template shingles dropped as the export's check does),
    nor a repeat of a prompt the student already has.
Every task the teacher wrote ends as one record of runs/epoch-N/augmented.jsonl, accepted or with its
reason; a reply that is not such an array ends as one rejected record for its seed.
"""

from __future__ import annotations

import json
import re
from collections import Counter

from distilloop.config import Params
from distilloop.export.leakage import normalise, shingles, without_common
from distilloop.gate.extract import parse_json
from distilloop.teachers import Request

FENCED = re.compile(r"```(?:json)?\s*\n(.*?)```", re.DOTALL)


def augment_request(record: dict, correction: str, params: Params) -> Request:
    prompt = params.teacher.augment_template.format(
        prompt=record["prompt"], answer=correction, count=params.correct.augment, id=record["id"]
    )
    return Request(system=params.teacher.system_prompt, prompt=prompt, record=record)


def new_tasks(text: str, limit: int) -> tuple[list[dict], str | None]:
    """The reply's tasks ({"prompt", "answer"} or {"reason"} for a malformed entry), at most `limit`, or
    ([], why) when the reply is not a JSON array."""
    fenced = FENCED.search(text)
    items, error = parse_json(fenced.group(1) if fenced else text.strip())  # depth-bounded: replies are untrusted
    if error:
        return [], f"reply is not a JSON array: {error}"
    if not isinstance(items, list):
        return [], f"reply is not a JSON array but a {type(items).__name__}"
    tasks = []
    for item in items[:limit]:
        prompt = item.get("prompt") if isinstance(item, dict) else None
        answer = item.get("answer") if isinstance(item, dict) else None
        if isinstance(answer, dict):  # a JSON record's answer may come as the object itself
            answer = json.dumps(answer, ensure_ascii=False)
        if not isinstance(prompt, str) or not prompt.strip() or not isinstance(answer, str) or not answer.strip():
            tasks.append({"reason": "malformed: needs a non-empty string 'prompt' and 'answer'"})
        else:
            tasks.append({"prompt": prompt.strip(), "answer": answer})
    return tasks, None


def leaked(prompts: list[str], heldout: list[str], known: list[str], threshold: float) -> list[str | None]:
    """Per prompt: why it may not be trained on (a val/test near-duplicate, a repeat), or None."""
    sets = without_common({i: shingles(text) for i, text in enumerate(heldout + prompts)})
    heldout_sets = [sets[i] for i in range(len(heldout))]
    heldout_texts, known_texts = {normalise(t) for t in heldout}, {normalise(t) for t in known}
    reasons = []
    for offset, prompt in enumerate(prompts):
        mine, text = sets[len(heldout) + offset], normalise(prompt)
        similar = max((len(mine & other) / len(mine | other) for other in heldout_sets if mine), default=0.0)
        similarity = 1.0 if text in heldout_texts else similar
        if similarity >= threshold:
            reasons.append(f"leak: near-duplicate of a val/test prompt (similarity {similarity:.2f})")
        elif text in known_texts:
            reasons.append("repeat: the student already has this prompt")
        else:
            reasons.append(None)
    return reasons


def augment(
    seeds: list[tuple[dict, str]], params: Params, runner, heldout: list[str], known: list[str], epoch: int | None
) -> tuple[list[dict], dict]:
    """New tasks like each seed (a failing record and its accepted correction), each checked.
    Returns (one record per task written or reply refused, metrics)."""
    from distilloop.gate.scoring import score_records
    from distilloop.gate.verdict import accept_rule

    outcomes = runner.run([augment_request(record, answer, params) for record, answer in seeds], "augment")
    suffix = f"+aug{epoch}" if epoch is not None else "+aug"
    records, candidates, skipped, written = [], [], 0, 0
    for (seed, _), outcome in zip(seeds, outcomes):
        base = {"seed": seed["id"], "task": seed.get("task"), "prompt": None, "completion": None, "accepted": False}
        if outcome.skipped:
            skipped += 1
            continue
        if outcome.reply is None:
            records.append({"id": f"{seed['id']}{suffix}", **base, "reason": f"failed: {outcome.error.kind}"})
            continue
        tasks, refused = new_tasks(outcome.reply.text, params.correct.augment)
        if refused:
            records.append({"id": f"{seed['id']}{suffix}", **base, "reason": refused})
            continue
        written += len(tasks)
        for number, task in enumerate(tasks, start=1):
            record = {"id": f"{seed['id']}{suffix}.{number}", **base, "reason": task.get("reason")}
            if record["reason"] is None:
                record["prompt"], record["completion"] = task["prompt"], task["answer"]
                candidates.append(record)
            records.append(record)

    reasons = leaked([c["prompt"] for c in candidates], heldout, known, params.export.near_duplicate_threshold)
    for candidate, reason in zip(candidates, reasons):
        candidate["reason"] = reason
    to_gate = [c for c in candidates if c["reason"] is None]
    answers = [
        {"id": c["id"], "task": c["task"], "prompt": c["prompt"], "output": c["completion"], "truncated": False}
        for c in to_gate
    ]
    rule = accept_rule(params)
    for candidate, scored in zip(to_gate, score_records(answers, params.gate) if answers else []):
        candidate["score"] = scored["score"]
        if rule.accepts(scored):
            candidate["accepted"], candidate["reason"] = True, f"passed the gate: score {scored['score']:.2f}"
        else:
            candidate["reason"] = rule.rejection_reason(scored)
    rejected = Counter(r["reason"].split(":")[0] for r in records if not r["accepted"])
    metrics = {
        "seeds": len(seeds),
        "tasks_written": written,
        "accepted": sum(r["accepted"] for r in records),
        "rejected": dict(sorted(rejected.items())),
        "skipped_budget": skipped,
    }
    return records, metrics
