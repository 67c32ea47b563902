"""Axes -> score -> pass, computed once for every task, and the accept rule of the loop.

A task (built-in or a user's scorer) measures an answer; what the measure means is decided here:
  weighted_score(axes, weights, cap)   the weighted mean of the axes that apply, at most `cap`
  verdict(score, axes, pass_score, minimums, blocked)
                                       passed: not blocked, every axis at its minimum, score >= pass_score
  AcceptRule(quality_threshold)        what goes to the teacher, and what of a teacher's (or the student's
                                       own) answer is trained on: both read `quality_threshold` here alone
`gate.pass_score` is the fixed ruler of every reported pass rate; `quality_threshold` is the
distillation knob, so an experiment that moves it changes what is taught, never how it is measured.
"""

from __future__ import annotations

from dataclasses import dataclass

# gate findings that fail an answer outright, most basic first: a rejection is named after the first
BLOCKING_FINDINGS = (
    "truncated",
    "empty",
    "function-missing",
    "signature",
    "compile",
    "harness-compile",
    "harness",
    "json-too-deep",
    "json-parse",
    "json-schema",
    "json-reference",
)


def weighted_score(axes: dict[str, float], weights: dict[str, float], cap: float | None = None) -> float:
    """The weighted mean of the axes, renormalised over those present (an axis that does not apply to a
    record is absent); 0 when no present axis has a weight."""
    present = {axis: weights.get(axis, 0.0) for axis in axes}
    total = sum(present.values())
    value = sum(present[axis] * axes[axis] for axis in axes) / total if total > 0 else 0.0
    return value if cap is None else min(value, cap)


def verdict(
    score: float,
    axes: dict[str, float],
    pass_score: float,
    minimums: dict[str, float] | None = None,
    blocked: bool = False,
) -> dict:
    """{"score", "axes", "passed"} of one answer, rounded as every scored file stores them."""
    minimums = minimums or {}
    below = [axis for axis in axes if axes[axis] < minimums.get(axis, 0.0)]
    score = round(score, 2)
    return {
        "score": score,
        "axes": {axis: round(number, 2) for axis, number in axes.items()},
        "passed": not blocked and not below and score >= pass_score,
    }


@dataclass(frozen=True)
class AcceptRule:
    """The loop's one accept rule. An answer is good enough when it passes the gate and reaches
    quality_threshold: a student's answer that is not goes to the teacher; a teacher's correction, a new
    task's answer or the student's own answer is trained on only when it is."""

    quality_threshold: float

    def accepts(self, scored: dict) -> bool:
        return bool(scored.get("passed")) and scored["score"] >= self.quality_threshold

    def needs_teacher(self, scored: dict) -> bool:
        return not self.accepts(scored)

    def reaches(self, mean_score: float) -> bool:
        """A split's mean score at the threshold (the loop's convergence criterion)."""
        return mean_score >= self.quality_threshold

    def rejection_reason(self, scored: dict) -> str:
        """'<kind>: <detail>' for a teacher's answer the rule did not accept. The kind groups the metrics:
        the most basic failure the gate found (truncated, no function, does not compile, harness, bad
        JSON, ...), else the score."""
        ids = list(dict.fromkeys(f.get("id", "?") for f in scored.get("findings") or []))
        blocking = [finding for finding in BLOCKING_FINDINGS if finding in ids]
        if scored.get("truncated") and "truncated" not in blocking:
            blocking.insert(0, "truncated")
        below = scored["score"] < self.quality_threshold
        reason = blocking[0] if blocking else "below threshold" if below else "gate"
        return f"{reason}: score {scored['score']:.2f} (threshold {self.quality_threshold:g})" + (
            f"; findings {', '.join(ids[:10])}" if ids else ""
        )


def accept_rule(params) -> AcceptRule:
    """The rule of a run's params (the top-level quality_threshold)."""
    return AcceptRule(params.quality_threshold)
