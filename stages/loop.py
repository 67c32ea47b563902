"""The loop across epochs: once an epoch has converged, the later epochs pass through.

evaluate@N decides `converged` (stages/evaluate.py) and writes it to metrics/epochs/N.json. A
passed-through epoch carries the flag on, so every stage of epoch N needs to read only
metrics/epochs/(N-1).json, which dvc.yaml lists as its dependency: no teacher calls, no training,
no generation for such an epoch, and DVC still sees every output it expects.
"""

from __future__ import annotations

from stages.records import epoch_metrics, read_json


def converged_before(epoch: int) -> int | None:
    """The epoch at which the loop converged, when that happened before `epoch`; else None."""
    path = epoch_metrics(epoch - 1)
    if epoch < 2 or not path.exists():
        return None
    previous = read_json(path)
    if not previous.get("converged"):
        return None
    return int(previous.get("converged_at", epoch - 1))


def pass_through_note(converged_at: int) -> str:
    return f"passed through: converged at epoch {converged_at}"
