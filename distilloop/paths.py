"""Where every file of a project lives: the export splits, each epoch's runs/ and metrics, the models.

Paths are relative to the project directory (the one holding dvc.yaml), where every stage runs.
"""

from __future__ import annotations

from pathlib import Path

SPLITS = ("train", "pool", "val", "test")
SCORED_SPLITS = ("pool", "val", "test")  # what each epoch answers and scores

EXPORT_DIR = Path("data/export")
METRICS_DIR = Path("metrics")
PLOTS_DIR = METRICS_DIR / "plots"
RUNS_DIR = Path("runs")
MODELS_DIR = Path("models")
BASE_DIR = MODELS_DIR / "base"
BEST_ADAPTER = MODELS_DIR / "best-adapter"
RL_ADAPTER = MODELS_DIR / "rl-adapter"  # the rl stage's: the RL adapter when it beat SFT on val, else best-adapter
RL_RUN_DIR = RUNS_DIR / "rl"  # the rl stage's checkpoints (persist: a killed run resumes)
MERGED_DIR = MODELS_DIR / "merged"
GGUF_DIR = MODELS_DIR / "gguf"
TRAINED_ON = "training.json"  # written into every adapter: what it was trained on (method, epoch, data digest)


def export_split(split: str) -> Path:
    return EXPORT_DIR / f"{split}.jsonl"


def epoch_dir(epoch: int) -> Path:
    return RUNS_DIR / f"epoch-{epoch}"


def bank_file(epoch: int) -> Path:
    """Every example accepted up to `epoch` (the seed train split, then each epoch's corrections); train@N
    learns lesson.jsonl, which merge@N draws from it."""
    return epoch_dir(epoch) / "bank.jsonl"


def epoch_metrics(epoch: int, suffix: str = "") -> Path:
    return METRICS_DIR / "epochs" / f"{epoch}{suffix}.json"
