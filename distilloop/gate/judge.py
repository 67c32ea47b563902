"""An LLM judge as a task's scorer (params gate.tasks.NAME.judge; docs/tasks.md).

The judge is asked `rubric` (a template with {prompt}, {output}, {reference}) for every answer and
replies with a score 0-10 and a reason as JSON, read from the end of the reply (a judge that thinks
aloud first may quote other JSON before its verdict). A reply without a usable score is asked again
once with a reminder; still none is a `judge-unparsable` finding (score 0). Calls go through the
teacher's machinery: the sqlite call cache, retries, concurrency and a budget ledger of its own.

Before its scores are used, the judge grades the `calibration` file of labelled answers: Pearson,
Spearman, MAE and pass agreement against the labels, and the correlation of its score with the
answer's length (verbosity bias), go into the metrics; below `min_spearman` the stage stops. The
share of answers it could not grade must stay within `max_error_rate`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from distilloop import UserError
from distilloop.config import JudgeParams
from distilloop.console import console
from distilloop.gate.extract import parse_json

REMINDER = '\n\nEnd your reply with the JSON object {"score": <0-10>, "reason": "<one sentence>"}.'
SCORE_WORDS = re.compile(r"score\W{0,5}(\d+(?:\.\d+)?)\s*(?:/\s*10)?", re.IGNORECASE)
MAX_REASON_CHARS = 500
# every judge of this process, by task: calibration and spend, for the metrics (summarise reads it)
REPORTS: dict[str, dict] = {}


class JudgeError(UserError):
    """The judge cannot be trusted or used for this run: one line."""


def verdict_of(text: str) -> tuple[float, str] | None:
    """(score, reason) from the end of a judge's reply, or None. The last JSON object with a numeric
    "score" in 0..10 wins; failing that, the last "score: N" in the text."""
    for start in reversed([m.start() for m in re.finditer(r"\{", text)]):
        end = text.find("}", start)
        while end != -1:
            value, error = parse_json(text[start : end + 1])
            if error is None:
                break
            end = text.find("}", end + 1)
        if end == -1 or not isinstance(value, dict):
            continue
        score = value.get("score")
        if isinstance(score, (int, float)) and not isinstance(score, bool) and 0 <= score <= 10:
            return float(score), str(value.get("reason", ""))[:MAX_REASON_CHARS]
    words = SCORE_WORDS.findall(text[-400:])
    if words and 0 <= float(words[-1]) <= 10:
        return float(words[-1]), ""
    return None


@dataclass
class Judge:
    task: str
    config: JudgeParams
    spent_usd: float = 0.0
    calls: int = 0
    cache_hits: int = 0
    report: dict = field(default_factory=dict)

    def __post_init__(self):
        self.template = _read(self.config.rubric, "rubric")
        try:
            self.template.format(prompt="", output="", reference="")
        except (KeyError, IndexError, ValueError) as exc:
            raise JudgeError(
                f"task {self.task!r}: judge rubric {self.config.rubric}: bad template ({exc}); "
                "use {prompt}, {output}, {reference} (and {{ }} for braces)"
            ) from None

    def grade(self, records: list[dict]) -> list[tuple[float, str] | str]:
        """Per record: (score, reason), or the reason it could not be graded."""
        from distilloop.teachers import Request, make_teacher
        from distilloop.teachers.cache import CallCache, default_path
        from distilloop.teachers.ledger import Ledger, price_of
        from distilloop.teachers.runner import Runner

        teacher = make_teacher(self.config)
        ledger = Ledger(price_of(self.config, teacher.remote), self.config.budget_usd, self.config.max_tokens)
        cache = CallCache(default_path(self.config.cache_path)) if teacher.cached else None
        runner = Runner(teacher, self.config, ledger, cache)

        def requests(suffix: str, subset: list[int]) -> list[Request]:
            return [
                Request(system=self.config.system_prompt, prompt=self._prompt(records[i]) + suffix, record=records[i])
                for i in subset
            ]

        try:
            results: list = [None] * len(records)
            todo = list(range(len(records)))
            for suffix in ("", REMINDER):  # a reply without a score is asked once more, with a reminder
                outcomes = runner.run(requests(suffix, todo), f"judge {self.task}")
                again = []
                for index, outcome in zip(todo, outcomes):
                    if outcome.skipped:
                        raise JudgeError(
                            f"task {self.task!r}: judge budget_usd={self.config.budget_usd:g} is spent "
                            f"(${ledger.spent_usd:.4f}) before record {records[index].get('id')!r}: raise it"
                        )
                    if outcome.reply is None:
                        results[index] = f"judge-error: {outcome.error.kind}"
                    elif (found := verdict_of(outcome.reply.text)) is not None:
                        results[index] = found
                    else:
                        results[index] = "judge-unparsable: no score in the reply"
                        again.append(index)
                todo = again
                if not todo:
                    break
        finally:
            teacher.close()
            if cache is not None:
                cache.close()
        self.spent_usd += ledger.spent_usd
        self.calls += runner.calls
        self.cache_hits += runner.cache_hits
        return results

    def _prompt(self, record: dict) -> str:
        reference = record.get("reference")
        if reference is not None and not isinstance(reference, str):
            reference = json.dumps(reference, ensure_ascii=False)
        return self.template.format(
            prompt=record.get("prompt") or "", output=record.get("output") or "", reference=reference or "(none)"
        )

    def calibrate(self, pass_score: float) -> dict:
        """Grade the labelled answers; the agreement figures, or JudgeError below min_spearman."""
        from distilloop.gate.agreement import judgment, pearson

        path = self.config.calibration
        labelled = _labelled(path, self.task)
        graded = self.grade(labelled)
        pairs = [(found[0], row["label"]) for found, row in zip(graded, labelled) if isinstance(found, tuple)]
        figures = judgment(pairs)
        lengths = [(found[0], len(row["output"])) for found, row in zip(graded, labelled) if isinstance(found, tuple)]
        report = {
            "labelled": len(labelled),
            "graded": len(pairs),
            "pearson_r": figures["pearson_r"],
            "spearman_r": figures["spearman_r"],
            "mae": figures["mae"],
            "pass_agreement": round(sum((s >= pass_score) == (y >= pass_score) for s, y in pairs) / len(pairs), 4)
            if pairs
            else None,
            "length_r": pearson(lengths),
        }
        spearman = report["spearman_r"]
        if spearman is None or spearman < self.config.min_spearman:
            raise JudgeError(
                f"task {self.task!r}: the judge agrees with {path} at Spearman "
                f"{'undefined' if spearman is None else f'{spearman:.2f}'} < min_spearman "
                f"{self.config.min_spearman:g} ({len(pairs)} of {len(labelled)} labelled answers graded): fix the "
                "rubric or the judge before trusting its scores"
            )
        return report


def _read(path: str, what: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise JudgeError(f"judge {what} {path}: cannot read it ({type(exc).__name__})") from None


def _labelled(path: str, task: str) -> list[dict]:
    rows = []
    for number, line in enumerate(_read(path, "calibration").splitlines(), start=1):
        if not line.strip():
            continue
        row, error = parse_json(line)
        label = row.get("label") if isinstance(row, dict) else None
        if (
            error is not None
            or not isinstance(row.get("output"), str)
            or isinstance(label, bool)
            or not isinstance(label, (int, float))
            or not 0 <= label <= 10
        ):
            raise JudgeError(f"{path}:{number}: a calibration row needs a string 'output' and a 'label' from 0 to 10")
        rows.append({"id": row.get("id", f"calibration-{number}"), "task": task, **row})
    if len(rows) < 3:
        raise JudgeError(f"{path}: {len(rows)} labelled answers; calibration needs at least 3")
    return rows


def score(task: str, config: JudgeParams, records: list[dict], pass_score: float) -> list:
    """The judge's results for `records` in the scorer contract's shape (a dict per record); judged
    once per process against its calibration file first."""
    judge = Judge(task, config)
    report = REPORTS.setdefault(task, {"model": f"{config.backend} {config.model}", "cost_usd": 0.0, "calls": 0})
    if config.calibration and "calibration" not in report:
        report["calibration"] = judge.calibrate(pass_score)
    graded = judge.grade(records)
    failed = [record.get("id") for record, found in zip(records, graded) if not isinstance(found, tuple)]
    if len(failed) > config.max_error_rate * len(records):
        first = next(found for found in graded if not isinstance(found, tuple))
        raise JudgeError(
            f"task {task!r}: the judge could not grade {len(failed)} of {len(records)} answers "
            f"(> max_error_rate {config.max_error_rate:g}; first: record {failed[0]!r}, {first})"
        )
    report["cost_usd"] = round(report["cost_usd"] + judge.spent_usd, 6)
    report["calls"] += judge.calls
    report["unparsable"] = report.get("unparsable", 0) + len(failed)
    _print(task, report, len(records), judge)
    return [
        {"score": found[0], "findings": [{"id": "judge", "message": found[1]}] if found[1] else []}
        if isinstance(found, tuple)
        else {"score": 0.0, "findings": [{"id": found.split(":")[0], "message": found.split(": ", 1)[-1]}]}
        for found in graded
    ]


def _print(task: str, report: dict, count: int, judge: Judge) -> None:
    calibration = report.get("calibration")
    agreement = (
        f"; calibration: Spearman {calibration['spearman_r']:.2f}, pass agreement {calibration['pass_agreement']:.0%}"
        if calibration
        else ""
    )
    console.print(
        f"judge {task} ({report['model']}): {count} answers graded, {judge.calls} calls, {judge.cache_hits} "
        f"cached, ${judge.spent_usd:.4f} (judge spend){agreement}"
    )


def teacher_is_judge(teacher, tasks: dict) -> list[str]:
    """The tasks whose judge is the teacher's own model: it would grade its own corrections."""
    return [
        name
        for name, task in tasks.items()
        if task.judge is not None and (task.judge.backend, task.judge.model) == (teacher.backend, teacher.model)
    ]
