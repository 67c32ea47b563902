"""The loop across epochs: which pool prompts an epoch practises on, and, once an epoch has converged,
the later epochs pass through.

With `loop.pool_per_epoch` = K > 0, epoch N practises on its own slice of K pool prompts: the student
answers slice N when it is evaluated after epoch N-1 (baseline answers slice 1), correct@N corrects the
failing ones, and no prompt comes back until the pool is used up (then the slices wrap around). So the
pool figures of every epoch are measured on prompts the student has never trained on.

evaluate@N decides `converged` (stages/evaluate.py) and writes it to metrics/epochs/N.json. A
passed-through epoch carries the flag on, so every stage of epoch N needs to read only
metrics/epochs/(N-1).json, which dvc.yaml lists as its dependency: no teacher calls, no training,
no generation for such an epoch, and DVC still sees every output it expects.
"""

from __future__ import annotations

from distilloop.io import read_json
from distilloop.paths import epoch_metrics


def pool_slice(pool: list[dict], epoch: int, per_epoch: int) -> list[dict]:
    """The pool prompts epoch `epoch` practises on (answered by the evaluation of epoch `epoch` - 1)."""
    if per_epoch <= 0 or per_epoch >= len(pool):
        return pool
    start = (epoch - 1) * per_epoch % len(pool)
    return (pool + pool)[start : start + per_epoch]


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
