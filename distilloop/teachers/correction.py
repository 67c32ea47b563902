"""Corrections: the teacher corrects the answers the accept rule does not accept; the same gate verifies.

`correct_answers` is correct@N's work (stages/correct.py reads and writes the files): eligible answers
(distilloop/gate/verdict.py), worst first (lowest score, then id), at most correct.max_corrections_per_epoch,
never past correct.budget_usd; each correction scored by the gate and accepted by the same rule. Every
eligible item ends as one correction record (accepted, rejected, or failed with its reason) or is counted
in the metrics as skipped_max / skipped_budget.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from distilloop import UserError
from distilloop.config import Params, TeacherSettings
from distilloop.console import console
from distilloop.gate.judge import teacher_is_judge
from distilloop.gate.verdict import AcceptRule, accept_rule
from distilloop.io import read_records
from distilloop.paths import export_split
from distilloop.teachers import Request, Teacher, make_teacher
from distilloop.teachers.augment import augment
from distilloop.teachers.cache import CallCache, default_path
from distilloop.teachers.ledger import Ledger, price_of
from distilloop.teachers.runner import Outcome, Runner

REQUIRED_KEYS = ("id", "prompt", "output", "score", "passed")
EXPORT_KEYS = ("id", "task", "prompt", "reference", "checks", "meta")
MAX_FINDINGS_IN_PROMPT = 20  # keep the request short; the worst few findings say what to fix


def load_scored(path: Path) -> list[dict]:
    records, first_line = read_records(path), {}
    for number, record in enumerate(records, start=1):
        missing = [key for key in REQUIRED_KEYS if key not in record]
        if missing:
            raise UserError(f"{path}:{number}: not a scored record: missing {', '.join(map(repr, missing))}")
        if record["id"] in first_line:
            raise UserError(
                f"{path}:{number}: duplicate id {record['id']!r} (first at line {first_line[record['id']]})"
            )
        first_line[record["id"]] = number
    return records


def eligible(records: list[dict], rule: AcceptRule) -> list[dict]:
    """The answers the teacher should correct, worst first."""
    return sorted(filter(rule.needs_teacher, records), key=lambda r: (r["score"], str(r["id"])))


def format_findings(findings: list[dict]) -> str:
    lines = [
        f"- [{f.get('id', '?')}]" + (f" line {f['line']}" if f.get("line") else "") + f": {f.get('message', '')}"
        for f in findings[:MAX_FINDINGS_IN_PROMPT]
    ]
    if len(findings) > MAX_FINDINGS_IN_PROMPT:
        lines.append(f"- ... and {len(findings) - MAX_FINDINGS_IN_PROMPT} more")
    return "\n".join(lines) or "- (none reported)"


def correction_request(record: dict, params: Params) -> Request:
    prompt = params.teacher.prompt_template.format(
        prompt=record["prompt"],
        student_output=record["output"],
        score=f"{record['score']:.1f}",
        threshold=f"{accept_rule(params).quality_threshold:g}",
        findings=format_findings(record.get("findings") or []),
    )
    return Request(system=params.teacher.system_prompt, prompt=prompt, record=record)


def verify(items: list[tuple[dict, Outcome]], params: Params) -> list[dict]:
    """Score each correction with the same gate as the student's answers (the correction as output)."""
    if not items:
        return []
    from distilloop.gate.scoring import score_records

    candidates = [
        {**{k: r[k] for k in EXPORT_KEYS if k in r}, "output": o.reply.text, "truncated": o.reply.truncated}
        for r, o in items
    ]
    return score_records(candidates, params.gate)


def kind(reason: str) -> str:
    return reason.split(":")[0]


def correction_record(record: dict, outcome: Outcome, scored: dict | None, teacher, params: Params) -> dict:
    reply = outcome.reply
    if reply is None:
        error = outcome.error
        accepted, reason = (
            False,
            f"failed: {error.kind}"
            + (f" ({error.detail})" if error.detail else "")
            + (f" after {error.attempts} attempts" if error.attempts > 1 else ""),
        )
    elif accept_rule(params).accepts(scored):
        accepted, reason = True, f"passed the gate: score {scored['score']:.2f}"
    else:
        accepted, reason = False, accept_rule(params).rejection_reason(scored)
    return {
        "id": record["id"],
        "prompt": record["prompt"],
        "student_output": record["output"],
        "student_score": record["score"],
        "correction": reply.text if reply else None,
        "correction_score": scored["score"] if scored else None,
        "accepted": accepted,
        "reason": reason,
        "teacher": {"backend": teacher.backend, "model": teacher.model},
        "cache_key": outcome.cache_key,
        "usage": {
            "input_tokens": reply.input_tokens if reply else outcome.error.usage[0],
            "output_tokens": reply.output_tokens if reply else outcome.error.usage[1],
            "cost_usd": round(outcome.cost_usd, 8),
        },
    }


def correct_answers(
    params: Params, records: list[dict], epoch: int | None
) -> tuple[list[dict], list[dict], dict, Teacher]:
    """The corrections, the teacher's new tasks (correct.augment), the metrics, and the teacher asked."""
    wanted = eligible(records, accept_rule(params))
    cap = params.correct.max_corrections_per_epoch
    to_send, skipped_max = wanted[:cap], len(wanted[cap:])

    settings = TeacherSettings.of(params)
    teacher = make_teacher(settings) if to_send else Teacher(settings)  # nothing to ask: no model, no key
    for task in teacher_is_judge(teacher, params.gate.tasks):  # it would grade its own corrections
        console.print(
            f"warning: task {task!r}: the judge is the teacher's own model ({teacher.backend} {teacher.model})"
        )
    ledger = Ledger(price_of(params.teacher, teacher.remote), params.correct.budget_usd, params.teacher.max_tokens)
    cache = CallCache(default_path(params.runtime.teacher.cache_path)) if teacher.cached and to_send else None
    runner = Runner(teacher, settings, ledger, cache)
    try:
        outcomes = runner.run([correction_request(r, params) for r in to_send], f"correct ({teacher.backend})")
        answered = [(r, o) for r, o in zip(to_send, outcomes) if o.reply is not None]
        scores = iter(verify(answered, params))
        corrections = []
        for record, outcome in zip(to_send, outcomes):
            if outcome.skipped:
                continue
            scored = next(scores) if outcome.reply is not None else None
            corrections.append(correction_record(record, outcome, scored, teacher, params))
        augmented, augment_metrics = augment_failures(params, epoch, records, to_send, corrections, teacher, runner)
    finally:
        teacher.close()
        if cache is not None:
            cache.close()

    rejected = Counter(kind(c["reason"]) for c in corrections if c["correction"] is not None and not c["accepted"])
    failed = Counter(o.error.kind for o in outcomes if o.error is not None)
    metrics = {
        "requested": len(wanted),
        "sent": runner.calls,
        "cache_hits": runner.cache_hits,
        "accepted": sum(c["accepted"] for c in corrections),
        "rejected": dict(sorted(rejected.items())),
        "failed": dict(sorted(failed.items())),
        "skipped_budget": sum(o.skipped == "budget" for o in outcomes),
        "skipped_max": skipped_max,
        "augment": augment_metrics,
        "input_tokens": ledger.input_tokens,
        "output_tokens": ledger.output_tokens,
        "cost_usd": round(ledger.spent_usd, 6),
    }
    return corrections, augmented, metrics, teacher


def augment_failures(params: Params, epoch, pool, sent, corrections, teacher, runner) -> tuple[list[dict], dict]:
    """correct.augment new tasks like each item whose correction was accepted (distilloop/teachers/augment.py)."""
    if not params.correct.augment:
        return [], {"skipped": "correct.augment is 0"}
    if teacher.backend == "reference":
        return [], {"skipped": "the reference teacher writes no new tasks"}
    accepted = {c["id"]: c["correction"] for c in corrections if c["accepted"]}
    seeds = [(record, accepted[record["id"]]) for record in sent if record["id"] in accepted]
    heldout = [
        r["prompt"]
        for split in ("val", "test")
        if export_split(split).exists()
        for r in read_records(export_split(split))
    ]
    return augment(seeds, params, runner, heldout, [r["prompt"] for r in pool], epoch)


EMPTY_METRICS = {
    "requested": 0,
    "sent": 0,
    "cache_hits": 0,
    "accepted": 0,
    "rejected": {},
    "failed": {},
    "skipped_budget": 0,
    "skipped_max": 0,
    "input_tokens": 0,
    "output_tokens": 0,
    "cost_usd": 0.0,
}
