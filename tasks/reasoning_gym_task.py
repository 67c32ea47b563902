"""The reasoning task's scorer: reasoning-gym's own verifier on the student's answer.

params.yaml: gate.tasks.reasoning.scorer: tasks/reasoning_gym_task.py:score
Each record is a row of tasks/reasoning_gym_data.py (its meta fields: dataset, answer, metadata) plus the
student's `output`. The contract: one result per record, in order, a score 0-10 with findings.
"""

from __future__ import annotations

import re

ANSWER_TAG = re.compile(r"<answer>\s*(.*?)\s*</answer>", re.DOTALL)


def extract(output: str) -> str:
    """The answer in an <answer> tag (reasoning-gym's convention), else the last non-empty line."""
    tagged = ANSWER_TAG.findall(output)
    if tagged:
        return tagged[-1]
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def field(record: dict, key: str):
    """A row's meta field: flattened into the record by the gate, or still under "meta"."""
    return record[key] if key in record else (record.get("meta") or {}).get(key)


def score(records: list[dict], options: dict) -> list[dict]:
    import reasoning_gym

    results = []
    for record in records:
        expected = field(record, "answer")
        given = extract(record.get("output") or "")
        if not given:
            results.append(finding(0.0, "no-answer", f"no answer given; expected {expected!r}"))
            continue
        entry = {"question": record["prompt"], "answer": expected, "metadata": field(record, "metadata") or {}}
        verify = reasoning_gym.get_score_answer_fn(field(record, "dataset"))
        note = ""
        try:
            value = float(verify(given, entry))
        except Exception as exc:  # a verifier that chokes on a garbled answer: that answer is wrong
            value, note = 0.0, f" (the verifier failed on it: {exc})"
        if value >= 1.0:
            results.append({"score": 10.0})
            continue
        # Partial credit ranks a near miss above a blank but never passes: reasoning-gym's default
        # verifier gives 0.75 to "1234" when the answer is "123".
        points = round(5.0 * max(value, 0.0), 2)
        results.append(finding(points, "wrong-answer", f"expected {expected!r}, the answer given was {given!r}{note}"))
    return results


def finding(points: float, kind: str, message: str) -> dict:
    return {"score": points, "findings": [{"id": kind, "message": message}]}
