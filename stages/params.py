"""The schema of params.yaml: one typed section per stage, plus the top-level `quality_threshold`.

Unknown keys, wrong types and out-of-range values are errors; `load()` turns them into one line
that names the key, e.g. `params.yaml: train.lora.r: must be >= 1 (got 0)`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from stages import UserError

PARAMS_FILE = Path("params.yaml")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


# --- export ---------------------------------------------------------------------------------------

DEFAULT_TEMPLATES = {
    "c_code": "{prompt}",
    "json_record": (
        "You score user profiles for an automotive embedded software team that builds TSN/AVB "
        "networking in C under MISRA-C. Read the profile and answer with one JSON object and nothing "
        'else: {{"handle": <the profile handle>, "score": <fit from 0.00 to 1.00>, "reason": '
        "<one sentence>}}.\n\n"
        "Profile\n"
        "handle: {handle}\n"
        "headline: {headline}\n"
        "years of experience: {years_experience}\n"
        "languages: {languages}\n"
        "skills: {skills}\n"
        "certifications: {certifications}\n"
        "industry: {industry}\n"
        "location: {location}\n"
        "open to work: {open_to_work}\n"
        "summary: {summary}"
    ),
}


class SplitFractions(Section):
    train: float = Field(0.2, ge=0, le=1, description="seed examples the student trains on from epoch 1")
    pool: float = Field(0.5, ge=0, le=1, description="prompts the student practises on and the teacher corrects")
    val: float = Field(0.15, ge=0, le=1, description="held out; picks the best epoch and stops training early")
    test: float = Field(0.15, ge=0, le=1, description="held out; only reported, never used for a decision")

    @model_validator(mode="after")
    def _sum_to_one(self):
        total = self.train + self.pool + self.val + self.test
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"train + pool + val + test must sum to 1.0 (got {total:g})")
        return self


class ExportParams(Section):
    source: str = Field(
        "bundled:c_code",
        description="bundled:c_code | bundled:json_record | a .jsonl/.csv/.parquet file | "
        "an SQLAlchemy URL (with `query`) | an s3://bucket/prefix",
    )
    query: str | None = Field(None, description="SQL query when `source` is an SQLAlchemy URL")
    task: Literal["c_code", "json_record"] = Field("c_code", description="task of rows that name none")
    templates: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_TEMPLATES),
        description="prompt template per task; {field} is filled from the row",
    )
    fractions: SplitFractions = Field(default_factory=SplitFractions)
    split_salt: str = Field("distilloop", description="salt of the stable id hash that assigns splits")
    max_record_bytes: int = Field(65536, ge=256, le=16 * 2**20, description="longer rows are rejected")
    near_duplicate_threshold: float = Field(
        0.8, gt=0, le=1, description="Jaccard similarity of word 3-grams above which prompts count as near-duplicates"
    )
    s3_endpoint_url: str | None = Field(None, description="S3 endpoint (else AWS_ENDPOINT_URL / AWS default)")

    @field_validator("templates")
    @classmethod
    def _known_tasks(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(DEFAULT_TEMPLATES))
        if unknown:
            raise ValueError(f"unknown task {unknown[0]!r} (allowed: {', '.join(DEFAULT_TEMPLATES)})")
        return {**DEFAULT_TEMPLATES, **value}


# --- student --------------------------------------------------------------------------------------


class StudentParams(Section):
    model: str = Field(
        "bundled:smollm2-135m-instruct",
        description="bundled:smollm2-135m-instruct, a local HF model directory, or a local .gguf file",
    )
    max_new_tokens: int = Field(384, ge=1, le=8192, description="answers that reach it are truncated")
    batch_size: int = Field(8, ge=1, le=512, description="prompts generated together (left padding)")
    temperature: float = Field(0.0, ge=0, le=2, description="0 means greedy decoding")
    repetition_penalty: float = Field(1.1, ge=1, le=2, description="1.0 disables it; small models loop without it")
    no_repeat_ngram_size: int = Field(0, ge=0, le=64, description="0 disables n-gram blocking")
    dtype: Literal["auto", "float32", "bfloat16"] = Field("auto", description="auto: bf16 where the CPU supports it")
    threads: int = Field(0, ge=0, le=256, description="torch threads; 0 means one per core")
    seed: int = Field(0, ge=0)


# --- quality gate ---------------------------------------------------------------------------------


class GateParams(Section):
    weights: dict[str, float] = Field(
        default_factory=lambda: {"syntax": 0.30, "protocol": 0.30, "safety": 0.25, "style": 0.15},
        description="axis weights of the overall score",
    )
    minimums: dict[str, float] = Field(
        default_factory=lambda: {"syntax": 10.0, "protocol": 7.0, "safety": 6.0, "style": 5.0},
        description="an answer with an axis below its minimum fails the gate",
    )
    workers: int = Field(0, ge=0, le=256, description="parallel scoring processes; 0 means one per core")


# --- teacher and corrections ----------------------------------------------------------------------


class TeacherParams(Section):
    backend: Literal["reference", "llamacpp", "hf", "openai", "bedrock", "anthropic"] = "reference"
    model: str = Field("reference", description="model id, local path or GGUF file, by backend")
    base_url: str | None = Field(None, description="server URL for openai-compatible backends")


class CorrectParams(Section):
    max_corrections_per_epoch: int = Field(200, ge=0, le=1_000_000)
    budget_usd: float = Field(5.0, ge=0, description="no call is made that could take the spend past it")


# --- training -------------------------------------------------------------------------------------


class LoraParams(Section):
    """The adapter's shape: fixed at epoch 0 by the baseline stage, later epochs continue that adapter."""

    r: int = Field(16, ge=1, le=1024, description="LoRA rank")
    alpha: int = Field(32, ge=1, le=4096, description="LoRA scaling numerator (scale = alpha / r)")
    dropout: float = Field(0.05, ge=0, lt=1, description="dropout on the LoRA input during training")
    target_modules: list[str] | None = Field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"],
        description="modules that get a LoRA pair; null: detected from the architecture",
    )


class DpoParams(Section):
    beta: float = Field(0.1, gt=0, le=10, description="DPO beta: higher keeps the policy closer to adapter N-1")
    loss_type: Literal["sigmoid", "ipo", "hinge"] = Field("sigmoid", description="TRL DPO loss")
    learning_rate: float = Field(
        5e-5, gt=0, le=1, description="DPO learning rate (DPO diverges at SFT rates; replaces train.learning_rate)"
    )


class KdParams(Section):
    teacher: str | None = Field(
        None, description="local HF model directory of the teacher; must share the student's tokenizer (required for kd)"
    )
    alpha: float = Field(0.5, ge=0, le=1, description="weight of the KL term: 0 = plain cross-entropy, 1 = pure KL")
    temperature: float = Field(2.0, gt=0, le=20, description="softmax temperature of both distributions in the KL term")


class TrainParams(Section):
    method: Literal["sft", "dpo", "kd"] = Field(
        "sft", description="sft: train set N; dpo: pairs N (chosen = correction, rejected = student); kd: sft + teacher logits"
    )
    lora: LoraParams = Field(default_factory=LoraParams)
    learning_rate: float = Field(2e-4, gt=0, le=1, description="peak AdamW learning rate (sft, kd)")
    lr_scheduler: Literal["linear", "cosine", "constant", "constant_with_warmup"] = Field(
        "cosine", description="learning-rate schedule after warmup"
    )
    warmup: float = Field(0.05, ge=0, le=0.5, description="fraction of the optimiser steps spent warming up")
    weight_decay: float = Field(0.0, ge=0, le=1, description="AdamW weight decay on the LoRA weights")
    max_grad_norm: float = Field(1.0, gt=0, le=100, description="gradient clipping")
    epochs: float = Field(2.0, gt=0, le=100, description="passes over the train set per loop epoch")
    batch_size: int = Field(4, ge=1, le=1024, description="examples per forward pass")
    gradient_accumulation_steps: int = Field(1, ge=1, le=1024, description="forward passes per optimiser step")
    max_seq_len: int = Field(768, ge=16, le=32768, description="prompt + completion tokens; longer examples are cut")
    group_by_length: bool = Field(True, description="batch examples of similar length together (less padding)")
    eval_steps: int = Field(
        20, ge=1, le=100_000, description="evaluate on val and save a checkpoint every N optimiser steps"
    )
    early_stopping_patience: int = Field(
        3, ge=0, le=1000, description="stop after N evaluations without improvement of the val loss; 0 disables"
    )
    early_stopping_threshold: float = Field(0.0, ge=0, description="val loss must drop by more than this to count")
    dtype: Literal["auto", "float32", "bfloat16"] = Field(
        "auto", description="bfloat16: bf16 autocast over fp32 weights; auto: bf16 where the CPU has it natively "
        "and a matmul probe shows it faster than fp32"
    )
    threads: int = Field(0, ge=0, le=256, description="torch threads; 0 means one per core")
    seed: int = Field(0, ge=0, description="seeds LoRA dropout and the data order")
    dpo: DpoParams = Field(default_factory=DpoParams)
    kd: KdParams = Field(default_factory=KdParams)

    @model_validator(mode="after")
    def _kd_needs_teacher(self):
        if self.method == "kd" and not self.kd.teacher:
            raise ValueError("kd.teacher must name a local HF model directory when method is kd")
        return self


# --- the loop -------------------------------------------------------------------------------------


class LoopParams(Section):
    epochs: dict[str, int] = Field(
        default_factory=lambda: {"1": 0, "2": 1, "3": 2},
        description="epoch -> previous epoch, consecutive from 1 (DVC templating cannot compute N-1)",
    )
    patience: int = Field(1, ge=1, le=100, description="epochs that must meet the convergence criteria")

    @field_validator("epochs")
    @classmethod
    def _consecutive(cls, value: dict[str, int]) -> dict[str, int]:
        expected = {str(n): n - 1 for n in range(1, len(value) + 1)}
        if value != expected:
            raise ValueError(f"must map 1..N to N-1, e.g. {expected} (got {value})")
        return value


# --- export of the final model --------------------------------------------------------------------


class MergeLoraParams(Section):
    tolerance: float = Field(1e-3, gt=0, description="max abs logit difference merged vs base+adapter")


class QuantiseParams(Section):
    types: list[Literal["f16", "q8_0", "q4_k_m"]] = Field(default_factory=lambda: ["f16", "q8_0", "q4_k_m"])
    max_pass_rate_drop: float = Field(0.15, ge=0, le=1, description="fail when a type loses more test pass rate")


# --- all of params.yaml ---------------------------------------------------------------------------


class Params(Section):
    quality_threshold: float = Field(7.0, ge=0, le=10, description="answers scoring below go to the teacher")
    export: ExportParams = Field(default_factory=ExportParams)
    student: StudentParams = Field(default_factory=StudentParams)
    gate: GateParams = Field(default_factory=GateParams)
    teacher: TeacherParams = Field(default_factory=TeacherParams)
    correct: CorrectParams = Field(default_factory=CorrectParams)
    train: TrainParams = Field(default_factory=TrainParams)
    loop: LoopParams = Field(default_factory=LoopParams)
    merge_lora: MergeLoraParams = Field(default_factory=MergeLoraParams)
    quantise: QuantiseParams = Field(default_factory=QuantiseParams)


def _describe(error: dict) -> str:
    key = ".".join(str(part) for part in error["loc"]) or "(top level)"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return f"{key}: unknown key"
    if error["type"] == "missing":
        return f"{key}: missing"
    return f"{key}: {message} (got {error.get('input')!r})"


def parse(data: dict, origin: str = str(PARAMS_FILE)) -> Params:
    """Validate a params mapping; raise UserError with one line naming the first bad key."""
    try:
        return Params.model_validate(data or {})
    except ValidationError as exc:
        errors = exc.errors()
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise UserError(f"{origin}: {_describe(errors[0])}{more}") from None


def load(path: str | Path = PARAMS_FILE) -> Params:
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: not found (run from the project directory)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    if data is not None and not isinstance(data, dict):
        raise UserError(f"{path}: must be a mapping of sections")
    return parse(data, str(path))
