"""The schema of params.yaml: one typed section per stage, plus the top-level `quality_threshold`.

Unknown keys, wrong types and out-of-range values are errors; `load()` turns them into one line
that names the key, e.g. `params.yaml: train.lora.r: must be >= 1 (got 0)`.
"""

from __future__ import annotations

import copy
import math
import os
import re
import string
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from distilloop import UserError

PARAMS_FILE = Path("params.yaml")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


# --- export ---------------------------------------------------------------------------------------

DEFAULT_TEMPLATES = {
    "c_code": "{prompt}",
    "json_record": (
        "You score user profiles for an automotive embedded software team that builds TSN/AVB "
        "networking in C under MISRA-C. Read the profile and answer with one JSON object and nothing "
        'else: {{"handle": <the profile handle>, "reason": <one sentence>, "score": <fit from 0.00 to '
        "1.00>}}.\n\n"
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
    train: float = Field(0.25, ge=0, le=1, description="seed examples the student trains on from epoch 1")
    pool: float = Field(0.65, ge=0, le=1, description="prompts the student practises on and the teacher corrects")
    val: float = Field(0.04, ge=0, le=1, description="held out; picks the best epoch and stops training early")
    test: float = Field(0.06, ge=0, le=1, description="held out; only reported, never used for a decision")

    @model_validator(mode="after")
    def _sum_to_one(self):
        total = self.train + self.pool + self.val + self.test
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"train + pool + val + test must sum to 1.0 (got {total:g})")
        return self


SPLIT_NAMES = ("train", "pool", "val", "test")


class SourceParams(Section):
    source: str = Field(description="as export.source")
    query: str | None = Field(None, description="SQL, when source is a database URL")
    fields: dict[str, str] = Field(default_factory=dict, description="as export.fields, for this source's rows")
    task: str | None = Field(None, description="the task of this source's rows that name none (null: export.task)")
    split: Literal["train", "pool", "val", "test"] | None = Field(
        None,
        description="every row of this source goes to this split (null: the stable id hash decides): seed "
        "examples to train, known failures to pool",
    )


class ExportParams(Section):
    source: str = Field(
        "bundled:json_record",
        description="bundled:c_code | bundled:json_record | a .jsonl/.csv/.parquet file | "
        "an SQLAlchemy URL (with `query`) | an s3://bucket/prefix",
    )
    query: str | None = Field(None, description="SQL query when `source` is an SQLAlchemy URL")
    sources: list[SourceParams] = Field(
        default_factory=list,
        description="several sources as one, each with its own fields, task and split (instead of source); "
        "docs/tasks.md",
    )
    task: str = Field("c_code", description="task of rows that name none: c_code, json_record or a gate.tasks name")
    bundled_profiles: int = Field(
        1600,
        ge=1,
        le=1_000_000,
        description="profiles that bundled:json_record generates (deterministic: a larger count only adds people)",
    )
    templates: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_TEMPLATES),
        description="prompt template per task; {field} is filled from the row (a gate.tasks task without one: "
        "'{prompt}')",
    )
    fractions: SplitFractions = Field(default_factory=SplitFractions)
    fields: dict[str, str] = Field(
        default_factory=dict,
        description="record key -> the source's column, for data with its own names, e.g. "
        "{prompt: instruction, reference: output}; a row without an id gets a stable hash of its fields",
    )
    split_salt: str = Field("distilloop", description="salt of the stable id hash that assigns splits")
    max_rows: int | None = Field(
        None, ge=1, description="read at most this many rows, in source order (null: all): quick trials, smoke runs"
    )
    max_record_bytes: int = Field(65536, ge=256, le=16 * 2**20, description="longer rows are rejected")
    near_duplicate_threshold: float = Field(
        0.8, gt=0, le=1, description="Jaccard similarity of word 3-grams above which prompts count as near-duplicates"
    )
    s3_endpoint_url: str | None = Field(None, description="S3 endpoint (else AWS_ENDPOINT_URL / AWS default)")

    def template(self, task: str) -> str:
        return self.templates.get(task, DEFAULT_TEMPLATES.get(task, "{prompt}"))


DEVICE_PATTERN = r"^(auto|cpu|mps|cuda(:[0-9]+)?)$"  # student.device / train.device


# --- student --------------------------------------------------------------------------------------


class StudentParams(Section):
    model: str = Field(
        "bundled:smollm2-135m-instruct",
        description="bundled:smollm2-135m-instruct, a local HF model directory, or a local .gguf file",
    )
    max_new_tokens: int = Field(384, ge=1, le=8192, description="answers that reach it are truncated")
    batch_size: int = Field(32, ge=1, le=512, description="prompts decoded together (each prefilled alone)")
    temperature: float = Field(0.0, ge=0, le=2, description="0 means greedy decoding")
    max_new_tokens_by_task: dict[str, Annotated[int, Field(ge=1, le=8192)]] = Field(
        default_factory=lambda: {"json_record": 200},
        description="token budget of a task's answers (the smaller of it and max_new_tokens applies): a runaway "
        "answer stops there, truncated",
    )
    repetition_penalty: float = Field(1.1, ge=1, le=2, description="1.0 disables it; small models loop without it")
    repeat_last_n: int = Field(
        64,
        ge=0,
        le=8192,
        description="the repetition penalty covers this many of the latest generated tokens, "
        "never the prompt (llama.cpp's repeat_last_n); 0 disables it",
    )
    no_repeat_ngram_size: int = Field(0, ge=0, le=64, description="0 disables n-gram blocking (over generated tokens)")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
        "auto",
        description="auto: bf16 where the device computes it natively (CUDA compute capability >= 8, a CPU "
        "with AVX512-BF16/AMX), float16 on older CUDA GPUs, else float32; in float32 batched greedy answers "
        "equal one-at-a-time ones, in a half dtype they can change with the batch's shape",
    )
    device: str = Field(
        "auto",
        pattern=DEVICE_PATTERN,
        description="where generation runs (baseline, evaluate, merge_lora's check, serve's transformers "
        "backend): auto (CUDA, then MPS, then the CPU), cuda, cuda:N, mps or cpu",
    )
    seed: int = Field(0, ge=0, description="sampling seed (temperature > 0)")
    system_prompt: str | None = Field(
        None, description="system turn of the chat template; null keeps the template's own default"
    )

    def token_budget(self, task: str | None) -> int:
        """New tokens an answer of `task` may take."""
        return min(self.max_new_tokens, self.max_new_tokens_by_task.get(task, self.max_new_tokens))


# --- quality gate ---------------------------------------------------------------------------------


C_AXES = ("syntax", "function", "protocol", "safety", "style")
JSON_AXES = ("parse", "schema", "agreement")
JSON_TYPES = ("string", "number", "integer", "boolean", "array", "object")

DEFAULT_RULE_WEIGHTS = {
    # what the prompts forbid outright
    "misra-c2012-15.1": 3.0,  # goto
    "misra-c2012-17.2": 3.0,  # recursion
    "misra-c2012-21.3": 3.0,  # dynamic memory
    "misra-c2012-16.4": 2.0,  # switch without default
    "misra-c2012-8.1": 2.0,  # implicit int
    "misra-c2012-dir-4.6": 1.0,  # basic numerical types instead of fixed-width typedefs
    "misra-c2012-7.1": 1.0,  # octal constants
    # mandatory rules and real defects
    "misra-c2012-9.1": 3.0,
    "misra-c2012-17.3": 3.0,
    "misra-c2012-17.4": 3.0,
    "misra-c2012-13.6": 2.0,
    "cppcheck-uninitvar": 3.0,
    "cppcheck-legacyUninitvar": 3.0,
    "cppcheck-arrayIndexOutOfBounds": 3.0,
    "cppcheck-nullPointer": 3.0,
    "cppcheck-zerodiv": 3.0,
    "cppcheck-shiftTooManyBits": 2.0,
    "cppcheck-integerOverflow": 2.0,
    "ast-parse": 4.0,  # not C99 that a parser accepts (extensions, or broken code)
    # artefacts of judging a snippet alone: external functions without a header, macros unused here
    "misra-c2012-8.4": 0.1,
    "misra-c2012-8.7": 0.1,
    "misra-c2012-2.5": 0.1,
    # advisory rules that sound code trips often
    "misra-c2012-15.5": 0.25,
    "misra-c2012-12.1": 0.25,
    "misra-c2012-2.7": 0.5,
    "misra-c2012-8.9": 0.25,
    "misra-c2012-11.5": 0.5,
    "misra-c2012-10.4": 0.5,
    "misra-c2012-10.8": 0.5,
    # style axis
    "style-doc": 1.0,
    "style-param-doc": 1.0,
    "style-return-doc": 0.5,
    "style-length": 1.0,
    "style-complexity": 1.0,
    "style-main": 1.0,
}


def _check_axes(value: dict[str, float], allowed: tuple[str, ...], upper: float | None) -> dict[str, float]:
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise ValueError(f"unknown axis {unknown[0]!r} (allowed: {', '.join(allowed)})")
    for axis, number in value.items():
        if number < 0 or (upper is not None and number > upper):
            raise ValueError(f"{axis}: must be between 0 and {upper if upper is not None else 'inf'} (got {number})")
    return value


class HarnessParams(Section):
    enabled: bool = Field(
        True, description="run records' harnesses (false: the function axis only checks the function is defined)"
    )
    cpu_seconds: float = Field(
        2.0, gt=0, le=60, description="CPU time of one harness run (rounded up to whole seconds)"
    )
    memory_mb: int = Field(256, ge=16, le=16384, description="address space of one harness run")
    wall_seconds: float = Field(10.0, gt=0, le=600, description="wall-clock time of one harness run")
    output_bytes: int = Field(65536, ge=256, le=64 * 2**20, description="output read from one harness run")
    allow_weak_sandbox: bool = Field(
        False,
        description="where bubblewrap cannot create namespaces, run harnesses "
        "with rlimits and seccomp only (the compiler and the program see the host's "
        "files); false: refuse with one line",
    )


class CGateParams(Section):
    weights: dict[str, float] = Field(
        default_factory=lambda: {"syntax": 0.30, "function": 0.30, "protocol": 0.30, "safety": 0.25, "style": 0.15},
        description="axis weights of the score, renormalised over the axes that apply to a record",
    )
    minimums: dict[str, float] = Field(
        default_factory=lambda: {"syntax": 10.0, "function": 10.0, "protocol": 7.0, "safety": 6.0, "style": 5.0},
        description="an answer with an axis below its minimum fails the gate (0-10)",
    )
    missing_function_cap: float = Field(
        3.0, ge=0, le=10, description="score ceiling of an answer that does not define the requested function"
    )
    warning_penalty: float = Field(1.5, ge=0, le=10, description="syntax points lost per gcc warning (strict C99)")
    lenient_score: float = Field(
        4.0,
        ge=0,
        le=10,
        description="syntax score of code that compiles only as GNU C with the standard headers forced in",
    )
    rule_weights: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_RULE_WEIGHTS),
        description="points a finding costs its axis (safety: misra-*, cppcheck-*, ast-parse; style: style-*); "
        "a finding not listed costs default_rule_weight",
    )
    default_rule_weight: float = Field(1.0, ge=0, le=10, description="points of a finding not in rule_weights")
    max_repeats_per_rule: int = Field(3, ge=1, le=100, description="occurrences of one finding id that count")
    max_function_lines: int = Field(60, ge=5, le=10000, description="longer functions cost style points")
    max_complexity: int = Field(15, ge=1, le=1000, description="higher cyclomatic complexity costs style points")
    tool_timeout_seconds: float = Field(
        60.0, gt=0, le=3600, description="one batched gcc/cppcheck/misra call; after a timeout, each sample alone"
    )
    harness: HarnessParams = Field(default_factory=HarnessParams)

    @field_validator("weights")
    @classmethod
    def _weights(cls, value):
        _check_axes(value, C_AXES, None)
        if not any(number > 0 for number in value.values()):
            raise ValueError("at least one weight must be > 0")
        return value

    @field_validator("minimums")
    @classmethod
    def _minimums(cls, value):
        return _check_axes(value, C_AXES, 10.0)

    @field_validator("rule_weights")
    @classmethod
    def _rule_weights(cls, value):
        for rule, number in value.items():
            if not 0 <= number <= 10:
                raise ValueError(f"{rule}: must be between 0 and 10 (got {number})")
        return value


class JsonGateParams(Section):
    weights: dict[str, float] = Field(
        default_factory=lambda: {"parse": 0.2, "schema": 0.3, "agreement": 0.5},
        description="axis weights, renormalised over the axes that apply (agreement needs a reference)",
    )
    minimums: dict[str, float] = Field(
        # agreement 10: a pass needs the score within score_tolerance of the reference's, so a constant
        # answer at the population mean fails most records (docs/results.md)
        default_factory=lambda: {"parse": 10.0, "schema": 10.0, "agreement": 10.0},
        description="an answer with an axis below its minimum fails the gate (0-10)",
    )
    required: dict[str, Literal["string", "number", "integer", "boolean", "array", "object"]] = Field(
        default_factory=lambda: {"handle": "string", "score": "number", "reason": "string"},
        description="keys the answer object must have, with their JSON types",
    )
    ranges: dict[str, tuple[float, float]] = Field(
        default_factory=lambda: {"score": (0.0, 1.0)}, description="inclusive [low, high] of numeric keys"
    )
    match_keys: list[str] = Field(
        default_factory=lambda: ["handle"], description="keys that must equal the reference's"
    )
    score_key: str = Field("score", description="the numeric key compared with the reference")
    score_tolerance: float = Field(
        0.1, ge=0, le=1e9, description="|answer - reference| within it scores 10; 0 at four times it"
    )

    @field_validator("weights")
    @classmethod
    def _weights(cls, value):
        _check_axes(value, JSON_AXES, None)
        if not any(number > 0 for number in value.values()):
            raise ValueError("at least one weight must be > 0")
        return value

    @field_validator("minimums")
    @classmethod
    def _minimums(cls, value):
        return _check_axes(value, JSON_AXES, 10.0)

    @field_validator("ranges")
    @classmethod
    def _ranges(cls, value):
        for key, (low, high) in value.items():
            if low > high:
                raise ValueError(f"{key}: low {low} is above high {high}")
        return value


TASK_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
BUILT_IN_TASKS = ("c_code", "json_record")
USER_TASK_DIR = "tasks"  # the scoring stages depend on it: a scorer, rubric or calibration file there is seen


class CommandScorer(Section):
    command: list[str] = Field(
        min_length=1,
        description="a program (argv) that reads records as JSONL on stdin and writes one result per line, "
        "run in the project directory",
    )
    sandbox: bool = Field(
        False,
        description="run it in the C harness's sandbox: no network, as nobody, read-only /usr and a copy of "
        "tasks/ as its files (a system tool or /usr/bin/python3 with the standard library)",
    )


def _in_task_dir(path: str, what: str) -> str:
    parts = Path(path).parts
    if Path(path).is_absolute() or ".." in parts or not parts or parts[0] != USER_TASK_DIR:
        raise ValueError(
            f"{what} {path!r} must be a path under {USER_TASK_DIR}/ in the project: the scoring stages depend on "
            f"{USER_TASK_DIR}/, so DVC re-scores when it changes"
        )
    return path


class UserTaskParams(Section):
    scorer: str | CommandScorer | None = Field(
        None,
        description="tasks/FILE.py:function, package.module:function, or {command: [argv...]}; the contract is "
        "score(records, options) -> one score 0-10 or {score, axes, findings} per record (docs/tasks.md)",
    )
    judge: JudgeParams | None = Field(
        None, description="an LLM that scores the answers by a rubric, instead of a scorer"
    )
    options: dict = Field(default_factory=dict, description="handed to the scorer as it is")
    minimums: dict[str, Annotated[float, Field(ge=0, le=10)]] = Field(
        default_factory=dict, description="an answer with a returned axis below its minimum fails the gate"
    )
    batch_size: int = Field(256, ge=1, le=1_000_000, description="records per scorer call")
    timeout_s: float = Field(
        300.0, gt=0, le=86400, description="one scorer call; past it the stage stops, naming the records"
    )

    @field_validator("scorer")
    @classmethod
    def _scorer(cls, value):
        if isinstance(value, str):
            target, _, name = value.rpartition(":")
            if not target or not name.isidentifier():
                raise ValueError(f"scorer {value!r}: write tasks/FILE.py:function or package.module:function")
            if target.endswith(".py"):
                _in_task_dir(target, "scorer file")
        return value

    @model_validator(mode="after")
    def _one_way_to_score(self):
        if (self.scorer is None) == (self.judge is None):
            raise ValueError("give a task either a scorer or a judge")
        return self


class GateParams(Section):
    pass_score: float = Field(
        7.0,
        ge=0,
        le=10,
        description="score an answer needs to pass the gate (with every axis at its minimum); the reported "
        "pass rates use it, so they stay comparable across experiments that change quality_threshold",
    )
    workers: int = Field(0, ge=0, le=256, description="parallel scoring processes; 0 means one per core")
    c_code: CGateParams = Field(default_factory=CGateParams)
    json_record: JsonGateParams = Field(default_factory=JsonGateParams)
    tasks: dict[str, UserTaskParams] = Field(
        default_factory=dict, description="the project's own tasks by name, each with its scorer (docs/tasks.md)"
    )

    @field_validator("tasks")
    @classmethod
    def _task_names(cls, value: dict):
        for name in value:
            if name in BUILT_IN_TASKS or not TASK_NAME.match(name):
                raise ValueError(
                    f"task name {name!r}: use lower-case letters, digits and _ (not {' or '.join(BUILT_IN_TASKS)})"
                )
        return value

    @property
    def task_names(self) -> tuple[str, ...]:
        return (*BUILT_IN_TASKS, *self.tasks)


# --- teacher and corrections ----------------------------------------------------------------------


DEFAULT_TEACHER_SYSTEM = (
    "You are an expert embedded software engineer and reviewer: C99 under MISRA-C:2012, automotive "
    "Ethernet and TSN/AVB protocols (802.1Q, 802.1AS gPTP, IEEE 1722 AVTP, Qav, Qbv), and precise JSON. "
    "You correct answers so that they are complete, correct and compliant."
)
DEFAULT_CORRECTION_TEMPLATE = (
    # No {threshold} here: it would change every cache key when an experiment moves quality_threshold.
    "A student answered the task below. An automated review scored the answer {score}/10 "
    "with these findings:\n{findings}\n\n"
    "Task:\n{prompt}\n\n"
    "Student answer:\n{student_output}\n\n"
    "Provide a corrected version: a complete answer to the task that fixes every finding. "
    "Reply with the corrected answer only (C code in one ```c block; JSON as one object)."
)
TEMPLATE_FIELDS = ("prompt", "student_output", "score", "threshold", "findings")
DEFAULT_AUGMENT_TEMPLATE = (
    "A student got the task below wrong. Here it is with a verified answer.\n\n"
    "Task:\n{prompt}\n\n"
    "Answer:\n{answer}\n\n"
    "Write {count} new tasks of the same kind and difficulty for the student to practise on: change the "
    "names, numbers and requirements, keep the wording style of the task, and give each a complete, correct "
    "answer in the same form as the one above. Reply with a JSON array only: "
    '[{{"prompt": "<the new task>", "answer": "<its answer>"}}, ...]'
)
AUGMENT_TEMPLATE_FIELDS = ("prompt", "answer", "count", "id")
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
KEY_PREFIXES = ("sk-", "sk_", "ghp_", "gho_", "ghs_", "ghu_", "github_pat_", "AKIA", "ASIA", "xox", "hf_", "AIza")


def looks_like_key(value: str) -> bool:
    """A credential rather than a variable name: a known key prefix, or long and random-looking
    (mixed case and digits, or high character entropy); names like OPENAI_API_KEY are neither."""
    if value.startswith(KEY_PREFIXES):
        return True
    classes = sum(any(test(ch) for ch in value) for test in (str.islower, str.isupper, str.isdigit))
    counts = [value.count(ch) for ch in set(value)]
    entropy = -sum(n / len(value) * math.log2(n / len(value)) for n in counts) if value else 0.0
    return (len(value) >= 16 and classes == 3) or (len(value) >= 24 and entropy >= 4.0)


class Price(Section):
    input_per_mtok: float = Field(ge=0, description="USD per million input tokens")
    output_per_mtok: float = Field(ge=0, description="USD per million output tokens")


class ConnectionRuntime(Section):
    """How calls to a model are made (the teacher's: runtime.teacher; a judge's: its own keys); the answers do
    not depend on it (the call cache is keyed by what is asked)."""

    concurrency: int = Field(4, ge=1, le=256, description="calls in flight at once (local backends use 1)")
    timeout_s: float = Field(120.0, gt=0, le=3600, description="per-call timeout of a remote backend")
    max_retries: int = Field(4, ge=0, le=20, description="retries of a failed call (429, 5xx, timeout, malformed)")
    backoff_base_s: float = Field(
        1.0, ge=0, le=300, description="first retry delay; doubles each retry, with jitter; a Retry-After header wins"
    )
    cache_path: str | None = Field(
        None,
        description="sqlite call cache; null: $DISTILLOOP_CACHE_DIR/teacher.sqlite "
        "or ~/.cache/distilloop/teacher.sqlite",
    )
    threads: int = Field(0, ge=0, le=256, description="CPU threads of a local teacher; 0 means one per core")


class ConnectionParams(Section):
    """How to reach a model that answers requests: the teacher's, and an LLM judge's (gate.tasks.NAME.judge)."""

    backend: Literal["reference", "llamacpp", "hf", "openai", "bedrock", "anthropic"] = Field(
        "reference", description="reference: the record's own reference answer (offline, free)"
    )
    model: str = Field(
        "reference",
        description="model id (openai, bedrock, anthropic), a .gguf file (llamacpp) or a HF model directory (hf)",
    )
    base_url: str | None = Field(
        None,
        description="server URL: OpenAI-compatible (e.g. http://host:8000/v1), "
        "Anthropic, or a Bedrock endpoint_url; null: the provider's default",
    )
    api_key_env: str | None = Field(
        None,
        pattern=ENV_NAME,
        description="NAME of the environment variable that "
        "holds the API key (never the key); null: OPENAI_API_KEY / ANTHROPIC_API_KEY",
    )
    region: str | None = Field(None, description="AWS region for bedrock; null: AWS_REGION / AWS_DEFAULT_REGION")
    temperature: float = Field(0.0, ge=0, le=2, description="0 means greedy; part of the cache key")
    max_tokens: int = Field(1024, ge=1, le=65536, description="longest correction; part of the cache key")
    n_ctx: int = Field(4096, ge=256, le=262144, description="context length of a llamacpp teacher")
    prices: dict[str, Price] = Field(
        default_factory=dict,
        description="model -> USD per million tokens; a remote "
        "model needs an entry so budget_usd can hold (0 for a free local server)",
    )

    @model_validator(mode="before")
    @classmethod
    def _hide_key_like_values(cls, data):
        # api_key_env must name a variable; if someone pasted the key itself, the error must not echo it
        if isinstance(data, dict) and isinstance(data.get("api_key_env"), str):
            if not re.fullmatch(ENV_NAME, data["api_key_env"]):
                data = {**data, "api_key_env": "<not a variable name: value hidden>"}
            elif looks_like_key(data["api_key_env"]):
                data = {**data, "api_key_env": "<looks like a key, not a variable name: value hidden>"}
        return data


class Connection(ConnectionParams, ConnectionRuntime):
    """A model to call and how to call it: what distilloop/teachers works with (the teacher's:
    TeacherSettings.of(params); an LLM judge's: its own gate.tasks.NAME.judge)."""


class TeacherParams(ConnectionParams):
    system_prompt: str = Field(DEFAULT_TEACHER_SYSTEM, min_length=1, description="the teacher's system prompt")
    prompt_template: str = Field(
        DEFAULT_CORRECTION_TEMPLATE,
        min_length=1,
        description="the correction request; fields: " + ", ".join(TEMPLATE_FIELDS),
    )
    augment_template: str = Field(
        DEFAULT_AUGMENT_TEMPLATE,
        min_length=1,
        description="the request for new tasks like a failing one (correct.augment); fields: "
        + ", ".join(AUGMENT_TEMPLATE_FIELDS),
    )

    @field_validator("prompt_template", "augment_template")
    @classmethod
    def _known_fields(cls, value: str, info) -> str:
        allowed = TEMPLATE_FIELDS if info.field_name == "prompt_template" else AUGMENT_TEMPLATE_FIELDS
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        except ValueError as exc:
            raise ValueError(f"bad template: {exc}") from None
        unknown = sorted(names - set(allowed))
        if unknown:
            raise ValueError(f"unknown field {{{unknown[0]}}} (allowed: {', '.join(allowed)})")
        return value


DEFAULT_JUDGE_SYSTEM = (
    "You grade answers strictly and consistently against the rubric you are given. Think briefly if you "
    'must, then end your reply with one JSON object: {"score": <0-10>, "reason": "<one sentence>"}.'
)
JUDGE_FIELDS = ("prompt", "output", "reference")


class JudgeParams(Connection):
    """An LLM judge of a user task: the teacher's connection keys, a rubric, and the bar its agreement with
    labelled answers must clear before its scores are used."""

    backend: Literal["llamacpp", "hf", "openai", "bedrock", "anthropic"] = Field(
        description="as teacher.backend (a judge needs a model: not reference)"
    )
    model: str = Field(description="as teacher.model")
    system_prompt: str = Field(DEFAULT_JUDGE_SYSTEM, min_length=1, description="the judge's system prompt")
    max_tokens: int = Field(512, ge=16, le=65536, description="longest verdict; part of the cache key")
    rubric: str = Field(
        description="tasks/FILE: the grading request, a template with {prompt}, {output} and {reference}"
    )
    calibration: str | None = Field(
        None,
        description="tasks/FILE.jsonl of labelled answers ({prompt, output, reference?, label: 0-10}) judged "
        "first: agreement goes into the metrics, and below min_spearman the stage stops",
    )
    min_spearman: float = Field(0.5, ge=-1, le=1, description="the least Spearman r with the calibration labels")
    max_error_rate: float = Field(
        0.05, ge=0, le=1, description="share of answers the judge may fail to grade (unparsable, failed calls)"
    )
    budget_usd: float = Field(1.0, ge=0, le=100000, description="the judge's spend in one stage run")

    @field_validator("rubric", "calibration")
    @classmethod
    def _under_tasks(cls, value, info):
        return value if value is None else _in_task_dir(value, info.field_name)


UserTaskParams.model_rebuild()
GateParams.model_rebuild()


class CorrectParams(Section):
    max_corrections_per_epoch: int = Field(
        200, ge=0, le=1_000_000, description="most items sent per epoch, worst scores first"
    )
    budget_usd: float = Field(5.0, ge=0, description="no call is made that could take this run's spend past it")
    augment: int = Field(
        0,
        ge=0,
        le=20,
        description="new tasks like each failing item the teacher writes, with answers, after its correction is "
        "accepted (LLM2LLM); each is checked by the gate and against val/test before it is trained on; 0: off",
    )


class MergeParams(Section):
    """What each epoch trains on (stages/merge.py): the lesson drawn from every example accepted so far."""

    strategy: Literal["targeted", "cumulative"] = Field(
        "cumulative",
        description="cumulative: every example so far, this epoch's corrections weighted up (another pass that "
        "continues the adapter); targeted: this epoch's corrections plus a replay sample of earlier examples",
    )
    failure_weight: int = Field(
        2, ge=1, le=100, description="times each accepted correction of an item failing now is trained on per pass"
    )
    replay: float = Field(
        1.0, ge=0, le=100, description="targeted: earlier examples replayed per new example, so passing skills stay"
    )
    self_training: bool = Field(
        False, description="the student's own passing pool answers join the lesson (rejection sampling, STaR/ReST)"
    )


# --- training -------------------------------------------------------------------------------------


class LoraParams(Section):
    """The adapter's shape: fixed at epoch 0 by the baseline stage, later epochs continue that adapter."""

    r: int = Field(16, ge=1, le=1024, description="LoRA rank")
    alpha: int = Field(32, ge=1, le=4096, description="LoRA scaling numerator (scale = alpha / r)")
    dropout: float = Field(
        0.0,
        ge=0,
        lt=1,
        description="dropout on the LoRA input during training (each LoRA module draws a mask the size of its "
        "input: slower on a CPU, docs/training.md)",
    )
    target_modules: list[str] | None = Field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        description="modules that get a LoRA pair; null: detected from the architecture",
    )
    layers: int | None = Field(
        None,
        ge=1,
        le=1024,
        description="only the top N transformer layers get LoRA pairs (backward then stops below them);"
        " null: every layer",
    )


class DpoParams(Section):
    beta: float = Field(0.1, gt=0, le=10, description="DPO beta: higher keeps the policy closer to adapter N-1")
    loss_type: Literal["sigmoid", "ipo", "hinge"] = Field("sigmoid", description="TRL DPO loss")
    learning_rate: float = Field(
        5e-5, gt=0, le=1, description="DPO learning rate (DPO diverges at SFT rates; replaces train.learning_rate)"
    )


class KdParams(Section):
    teacher: str | None = Field(
        None,
        description="local HF model directory of the teacher; must share the student's tokenizer (required for kd)",
    )
    alpha: float = Field(0.5, ge=0, le=1, description="weight of the KL term: 0 = plain cross-entropy, 1 = pure KL")
    temperature: float = Field(2.0, gt=0, le=20, description="softmax temperature of both distributions in the KL term")


class DistributedParams(Section):
    """Several training processes under `accelerate launch`; the params and outputs stay those of one process."""

    processes: int = Field(
        1,
        ge=1,
        le=1024,
        description="processes on this machine; above 1, train@N runs under `accelerate launch` "
        "(DDP: gloo on CPUs, NCCL on GPUs), each with 1/processes of train.batch_size and of the cores",
    )
    config_file: str | None = Field(
        None,
        description="an accelerate config file (FSDP, several machines: configs/accelerate/); it names the "
        "processes itself and wins over `processes`",
    )

    @property
    def enabled(self) -> bool:
        return self.processes > 1 or self.config_file is not None


class TrainParams(Section):
    method: Literal["sft", "dpo", "kd"] = Field(
        "sft",
        description="sft: train set N; dpo: pairs N (chosen = correction, rejected = student); kd: sft + teacher logits",
    )
    lora: LoraParams = Field(default_factory=LoraParams)
    learning_rate: float = Field(1e-3, gt=0, le=1, description="peak AdamW learning rate (sft, kd)")
    lr_scheduler: Literal["linear", "cosine", "constant", "constant_with_warmup"] = Field(
        "cosine", description="learning-rate schedule after warmup"
    )
    warmup: float = Field(0.05, ge=0, le=0.5, description="fraction of the optimiser steps spent warming up")
    weight_decay: float = Field(0.0, ge=0, le=1, description="AdamW weight decay on the LoRA weights")
    max_grad_norm: float = Field(1.0, gt=0, le=100, description="gradient clipping")
    epochs: float = Field(1.0, gt=0, le=100, description="passes over the train set per loop epoch")
    batch_size: int = Field(
        4, ge=1, le=1024, description="examples per optimiser step and accumulation step, over all processes"
    )
    gradient_accumulation_steps: int = Field(1, ge=1, le=1024, description="forward passes per optimiser step")
    max_seq_len: int = Field(768, ge=16, le=32768, description="prompt + completion tokens; longer examples are cut")
    group_by_length: bool = Field(True, description="batch examples of similar length together (less padding)")
    eval_steps: int = Field(
        40, ge=1, le=100_000, description="evaluate on val and save a checkpoint every N optimiser steps"
    )
    early_stopping_patience: int = Field(
        3, ge=0, le=1000, description="stop after N evaluations without improvement of the val loss; 0 disables"
    )
    early_stopping_threshold: float = Field(0.0, ge=0, description="val loss must drop by more than this to count")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
        "auto",
        description="bfloat16 / float16: autocast over fp32 trainable weights; auto: on a CPU bf16 where it has "
        "it natively and a matmul probe shows it faster than fp32; on CUDA bf16 at compute capability >= 8, "
        "fp16 below; fp32 on MPS",
    )
    device: str = Field(
        "auto",
        pattern=DEVICE_PATTERN,
        description="where training runs: auto (CUDA, then MPS, then the CPU), cuda, cuda:N, mps or cpu",
    )
    quantization: Literal["none", "4bit"] = Field(
        "none",
        description="4bit: QLoRA, the frozen base weights in bitsandbytes NF4 with double quantisation and bf16 "
        "compute (CUDA only)",
    )
    gradient_checkpointing: bool = Field(
        False, description="recompute activations in the backward pass: less memory, more time (docs/training.md)"
    )
    seed: int = Field(0, ge=0, description="seeds LoRA dropout and the data order")
    dpo: DpoParams = Field(default_factory=DpoParams)
    kd: KdParams = Field(default_factory=KdParams)

    @model_validator(mode="after")
    def _kd_needs_teacher(self):
        if self.method == "kd" and not self.kd.teacher:
            raise ValueError("kd.teacher must name a local HF model directory when method is kd")
        return self


class RLParams(Section):
    """The rl stage: GRPO after select, from models/best-adapter, the gate score / 10 as the reward."""

    enabled: bool = Field(False, description="false: models/rl-adapter is the best SFT adapter, nothing is trained")
    steps: int = Field(20, ge=1, le=100_000, description="RL steps at most (one optimiser step each)")
    prompts_per_step: int = Field(4, ge=1, le=1024, description="pool prompts sampled per step")
    num_generations: int = Field(4, ge=2, le=64, description="sampled answers per prompt (one group)")
    max_completion_length: int = Field(
        384, ge=1, le=8192, description="new tokens of a sampled answer at most (and student's budget per task)"
    )
    temperature: float = Field(0.8, gt=0, le=2, description="sampling temperature of the answers trained on")
    beta: float = Field(0.04, ge=0, le=10, description="weight of the k3 KL to the frozen SFT policy")
    learning_rate: float = Field(1e-4, gt=0, le=1, description="AdamW learning rate of the LoRA weights")
    eval_every: int = Field(5, ge=1, le=100_000, description="greedy val pass rate every N steps (and at step 0)")
    patience: int = Field(
        3, ge=0, le=1000, description="stop after N evaluations without a better val pass rate; 0 disables"
    )
    seed: int = Field(0, ge=0, description="prompt order, sampling and LoRA dropout")
    hack_tolerance: float = Field(
        0.1,
        ge=0,
        le=10,
        description="stop when the training reward rises while the independent check (json_record: Pearson r; "
        "c_code: function axis / 10) falls by more than this below its step-0 value",
    )


# --- runtime: how this machine runs the stages, never what they compute --------------------------


class RuntimeParams(Section):
    """Settings that never change a result: no stage lists them in dvc.yaml, so changing one re-runs nothing.
    Each can also come from the environment, DISTILLOOP_RUNTIME__KEY=value (DISTILLOOP_RUNTIME__TEACHER__CONCURRENCY=8
    for a nested one), which wins over params.yaml."""

    threads: int = Field(
        0, ge=0, le=256, description="torch threads of generation, training and GGUF scoring; 0 means one per core"
    )
    teacher: ConnectionRuntime = Field(default_factory=ConnectionRuntime)
    distributed: DistributedParams = Field(default_factory=DistributedParams)


class TeacherSettings(TeacherParams, Connection):
    """What a teacher backend is built from: teacher (what is asked) and runtime.teacher (how it is called)."""

    @classmethod
    def of(cls, params: Params) -> TeacherSettings:
        return cls.model_validate({**params.teacher.model_dump(), **params.runtime.teacher.model_dump()})


# --- the loop -------------------------------------------------------------------------------------


class LoopParams(Section):
    epochs: dict[str, int] = Field(
        default_factory=lambda: {"1": 0, "2": 1, "3": 2},
        description="epoch -> previous epoch, consecutive from 1 (DVC templating cannot compute N-1)",
    )
    patience: int = Field(1, ge=1, le=100, description="epochs that must meet the convergence criteria")
    converge_max_corrections: int = Field(
        0, ge=0, le=1_000_000, description="converged only while an epoch requests at most this many corrections"
    )
    pool_per_epoch: int = Field(
        48,
        ge=0,
        le=10_000_000,
        description="pool prompts each epoch practises on, a fresh slice every epoch (0: the whole pool every epoch)",
    )

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
    check_prompts: int = Field(4, ge=1, le=256, description="test prompts the merge is checked on")
    check_tokens: int = Field(128, ge=1, le=4096, description="tokens of each prompt compared")


class QuantiseParams(Section):
    types: list[Literal["f16", "q8_0", "q4_k_m"]] = Field(
        default_factory=lambda: ["f16", "q4_k_m"],
        min_length=1,
        description="GGUF types to write and score; the smallest goes into the Modelfile",
    )
    max_pass_rate_drop: float = Field(
        0.15, ge=0, le=1, description="fail when a type's test pass rate is lower than the merged model's by more"
    )
    max_relative_pass_rate_drop: float = Field(
        0.5,
        ge=0,
        le=1,
        description="fail when a type loses more than this share of the merged model's test passes "
        "(0.16 -> 0.04 is a 0.12 drop, but three quarters of the passes)",
    )
    n_ctx: int = Field(
        2048, ge=128, le=131072, description="llama.cpp context for scoring, and num_ctx in the Modelfile"
    )
    parallel: int = Field(
        8,
        ge=1,
        le=64,
        description="test prompts answered together in one llama.cpp context (greedy decoding; 1: one at a time)",
    )
    ollama_temperature: float = Field(0.2, ge=0, le=2, description="temperature in the Ollama Modelfile")


# --- serving --------------------------------------------------------------------------------------


class ServeParams(Section):
    model: str = Field(
        "models/gguf/model-q4_k_m.gguf",
        description="a .gguf file (served by llama.cpp), an HF model directory such as models/merged "
        "(transformers), or bundled:smollm2-135m-instruct",
    )
    host: str = Field("127.0.0.1", min_length=1, description="address to listen on; 0.0.0.0 only inside a container")
    port: int = Field(
        8080, ge=1, le=65535, description="TCP port (SageMaker's 8080); SAGEMAKER_BIND_TO_PORT overrides it"
    )
    n_ctx: int = Field(4096, ge=256, le=131072, description="context window in tokens, prompt and answer together")
    threads: int = Field(0, ge=0, le=256, description="generation threads; 0 means one per core")
    max_body_bytes: int = Field(65536, ge=1024, le=16 * 2**20, description="larger request bodies are refused (413)")
    max_message_chars: int = Field(
        32768, ge=1, le=16 * 2**20, description="a longer prompt or message content is refused (422)"
    )
    max_new_tokens_limit: int = Field(2048, ge=1, le=131072, description="a request asking for more is refused (422)")
    max_new_tokens: int = Field(384, ge=1, le=131072, description="answer length when a request names none")
    max_queue: int = Field(
        8,
        ge=0,
        le=1024,
        description="requests that may wait behind the one generating; one more is refused (503 with Retry-After)",
    )
    temperature: float = Field(0.0, ge=0, le=2, description="when a request names none; 0 means greedy decoding")
    top_p: float = Field(1.0, gt=0, le=1, description="nucleus sampling mass when a request names none")
    repetition_penalty: float = Field(
        1.1, ge=1, le=2, description="when a request names none; 1.0 disables it; small models loop without it"
    )
    repeat_last_n: int = Field(
        64,
        ge=0,
        le=8192,
        description="the repetition penalty covers this many of the latest generated tokens, "
        "never the prompt; 0 disables it",
    )

    @model_validator(mode="after")
    def _default_within_limit(self):
        if self.max_new_tokens > self.max_new_tokens_limit:
            raise ValueError(
                f"max_new_tokens {self.max_new_tokens} is above max_new_tokens_limit {self.max_new_tokens_limit}"
            )
        return self


# --- all of params.yaml ---------------------------------------------------------------------------


class Params(Section):
    quality_threshold: float = Field(
        7.0,
        ge=0,
        le=10,
        description="answers below it (or failing the gate) go to the teacher; a correction must pass the gate "
        "and reach it to be trained on",
    )
    export: ExportParams = Field(default_factory=ExportParams)
    student: StudentParams = Field(default_factory=StudentParams)
    gate: GateParams = Field(default_factory=GateParams)
    teacher: TeacherParams = Field(default_factory=TeacherParams)
    correct: CorrectParams = Field(default_factory=CorrectParams)
    merge: MergeParams = Field(default_factory=MergeParams)
    train: TrainParams = Field(default_factory=TrainParams)
    loop: LoopParams = Field(default_factory=LoopParams)
    rl: RLParams = Field(default_factory=RLParams)
    merge_lora: MergeLoraParams = Field(default_factory=MergeLoraParams)
    quantise: QuantiseParams = Field(default_factory=QuantiseParams)
    serve: ServeParams = Field(default_factory=ServeParams)
    runtime: RuntimeParams = Field(default_factory=RuntimeParams)

    @model_validator(mode="after")
    def _batch_splits_over_processes(self):
        processes = self.runtime.distributed.processes
        if self.train.batch_size % processes:
            raise ValueError(
                f"train.batch_size {self.train.batch_size} must be a multiple of runtime.distributed.processes "
                f"{processes} (each process takes an equal share)"
            )
        return self

    @model_validator(mode="after")
    def _tasks_declared(self):
        """Every task named anywhere is a built-in or declared under gate.tasks."""
        named = {
            "export.task": [self.export.task, *(s.task for s in self.export.sources if s.task)],
            "export.templates": list(self.export.templates),
            "student.max_new_tokens_by_task": list(self.student.max_new_tokens_by_task),
        }
        for key, tasks in named.items():
            for task in tasks:
                if task not in self.gate.task_names:
                    raise ValueError(f"{key}: unknown task {task!r} (known: {', '.join(self.gate.task_names)})")
        return self


# keys that left their section for runtime: (they never change a result)
MOVED_TO_RUNTIME = {
    "student.threads": "runtime.threads",
    "train.threads": "runtime.threads",
    "train.distributed": "runtime.distributed",
    **{f"teacher.{key}": f"runtime.teacher.{key}" for key in ConnectionRuntime.model_fields},
}


def _describe(error: dict) -> str:
    key = ".".join(str(part) for part in error["loc"]) or "(top level)"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        moved = MOVED_TO_RUNTIME.get(key)
        return f"{key}: unknown key" + (f" (it is {moved} now: it never changes a result)" if moved else "")
    if error["type"] == "missing":
        return f"{key}: missing"
    if not error["loc"]:  # a rule across sections names its own keys
        return message
    return f"{key}: {message} (got {error.get('input')!r})"


ENV_PREFIX = "DISTILLOOP_"


def environment_overrides(data: dict, environ: dict[str, str]) -> dict:
    """`data` with DISTILLOOP_RUNTIME__KEY=value (DISTILLOOP_RUNTIME__TEACHER__CONCURRENCY=8) applied; a value is
    read as YAML (8, null, true). Only runtime keys: any other key changes results, and DVC sees params.yaml only."""
    overrides = sorted((name, value) for name, value in environ.items() if name.startswith(ENV_PREFIX) and "__" in name)
    if not overrides:
        return data
    data = copy.deepcopy(data or {})
    for name, value in overrides:
        path = [part.lower() for part in name.removeprefix(ENV_PREFIX).split("__")]
        if path[0] != "runtime" or len(path) < 2 or not all(path):
            key = ".".join(path)
            raise UserError(
                f"{name}: only runtime settings come from the environment (DISTILLOOP_RUNTIME__KEY); {key} changes "
                f"results, so it stays in params.yaml where DVC sees it (dvc exp run -S {key}=...)"
            )
        node = data
        for part in path[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        try:
            node[path[-1]] = yaml.safe_load(value) if value.strip() else None
        except yaml.YAMLError:
            node[path[-1]] = value
    return data


def parse(data: dict, origin: str = str(PARAMS_FILE)) -> Params:
    """Validate a params mapping; raise UserError with one line naming the first bad key."""
    try:
        return Params.model_validate(data or {})
    except ValidationError as exc:
        errors = exc.errors()
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise UserError(f"{origin}: {_describe(errors[0])}{more}") from None


def _overlay(target, overlay: dict, section: type[Section]) -> None:
    """Sections merge key by key; any other value (a number, a list, a mapping such as loop.epochs) is replaced."""
    for key, value in overlay.items():
        field = section.model_fields.get(key)
        inner = field.annotation if field is not None else None
        if (
            isinstance(inner, type)
            and issubclass(inner, Section)
            and isinstance(value, dict)
            and isinstance(target.get(key), dict)
        ):
            _overlay(target[key], value, inner)
        else:
            target[key] = value


def apply_profile(name: str, path: str | Path = PARAMS_FILE) -> Params:
    """Write the values of profiles/<name>.yaml into params.yaml, keeping its comments and layout;
    the result is validated before anything is written."""
    from ruamel.yaml import YAML

    profiles = Path(path).parent / "profiles"  # the project's profiles/, next to its params.yaml
    profile = profiles / f"{name}.yaml"
    if not profile.exists():
        known = ", ".join(sorted(p.stem for p in profiles.glob("*.yaml"))) or "none"
        raise UserError(f"no profile {name!r} (known: {known})")
    load(path)  # the file as it stands must be valid
    round_trip = YAML()
    round_trip.preserve_quotes = True
    round_trip.width = 4096  # never re-wrap the file's lines
    round_trip.representer.add_representer(
        type(None), lambda representer, _: representer.represent_scalar("tag:yaml.org,2002:null", "null")
    )
    document = round_trip.load(Path(path).read_text(encoding="utf-8"))
    _overlay(document, yaml.safe_load(profile.read_text(encoding="utf-8")) or {}, Params)
    result = parse(yaml.safe_load(_dump(round_trip, document)), f"{path} with profile {name}")
    with open(path, "w", encoding="utf-8") as handle:
        round_trip.dump(document, handle)
    return result


def _dump(round_trip, document) -> str:
    import io

    buffer = io.StringIO()
    round_trip.dump(document, buffer)
    return buffer.getvalue()


def load(path: str | Path = PARAMS_FILE, environ: dict[str, str] | None = None) -> Params:
    """params.yaml, with the runtime overrides of the environment (os.environ unless `environ` is given)."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: not found (run from the project directory)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, expected a params YAML file") from None
    except UnicodeDecodeError as exc:  # a binary file, or UTF-16 from an editor
        raise UserError(f"{path}: not UTF-8 text (byte {exc.start}): expected a params YAML file") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    except RecursionError:  # PyYAML composes nested collections recursively
        raise UserError(f"{path}: not valid YAML: nested too deeply") from None
    if data is not None and not isinstance(data, dict):
        raise UserError(f"{path}: must be a mapping of sections")
    overridden = environment_overrides(data, os.environ if environ is None else environ)
    origin = str(path) if overridden is data else f"{path} with DISTILLOOP_RUNTIME__* from the environment"
    return parse(overridden, origin)
