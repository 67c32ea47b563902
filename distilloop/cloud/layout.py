"""SageMaker's layout inside a training or serving container, every path overridable for local runs.

/opt/ml (DISTILLOOP_SM_ROOT) holds input/config/hyperparameters.json, input/data/<channel>/ (or
SM_CHANNEL_<NAME>), model/ (SM_MODEL_DIR: packed into model.tar.gz at the end), output/ (failure file)
and checkpoints/ (DISTILLOOP_CHECKPOINT_DIR: synced to CheckpointConfig.S3Uri while the job runs and
restored from it when a spot job restarts).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from distilloop import UserError

CODE_CHANNEL = "code"
CHECKPOINT_DIR_ENV = "DISTILLOOP_CHECKPOINT_DIR"  # as in distilloop.training.interruption (no import: torch)
# hyperparameters distilloop reads itself; every other key is a params.yaml override (`dvc exp run -S`)
RESERVED = {"dvc_targets"}
PARAM_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")


@dataclass(frozen=True)
class Layout:
    root: Path
    hyperparameters: Path
    model: Path
    output: Path
    checkpoints: Path

    @classmethod
    def from_env(cls, env=os.environ) -> Layout:
        root = Path(env.get("DISTILLOOP_SM_ROOT", "/opt/ml"))
        config = Path(env.get("SM_INPUT_CONFIG_DIR", root / "input" / "config"))
        return cls(
            root=root,
            hyperparameters=config / "hyperparameters.json",
            model=Path(env.get("SM_MODEL_DIR", root / "model")),
            output=Path(env.get("SM_OUTPUT_DIR", root / "output")),
            checkpoints=Path(env.get("DISTILLOOP_CHECKPOINT_DIR", root / "checkpoints")),
        )

    def channel(self, name: str, env=os.environ) -> Path:
        return Path(env.get(f"SM_CHANNEL_{name.upper()}", self.root / "input" / "data" / name))

    @property
    def project(self) -> Path:
        """The working copy of the project: inside the checkpoint directory, so that dvc.lock, the DVC cache
        and the training checkpoints all survive a spot restart."""
        return self.checkpoints / "project"


def read_hyperparameters(path: Path) -> tuple[dict[str, str], list[str]]:
    """(params overrides for `dvc exp run -S`, DVC targets) from hyperparameters.json. SageMaker passes every
    value as a string; DVC parses `-S key=value` values as YAML, so "4" is the number 4 again."""
    if not path.exists():
        return {}, []
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(raw, dict):
        raise UserError(f"{path}: expected a JSON object of hyperparameters")
    overrides, targets = {}, []
    for key, value in raw.items():
        if key == "dvc_targets":
            targets = str(value).split()
        elif not PARAM_KEY.match(key):
            raise UserError(f"{path}: hyperparameter {key!r} is not a params.yaml key such as train.epochs")
        else:
            overrides[key] = value if isinstance(value, str) else json.dumps(value)
    return overrides, targets
