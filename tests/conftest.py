"""Shared fixtures: tiny models built from a config, and real servers on 127.0.0.1 (PostgreSQL, S3).

Nothing here touches the network beyond 127.0.0.1; no weights are downloaded.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# a system prompt long enough that every batch shares an opening the trainer runs once (>= 30 tokens)
SHARED_SYSTEM_PROMPT = "Write MISRA-C:2012 compliant C for an automotive TSN/AVB network stack. " * 2
os.environ.setdefault("DVC_NO_ANALYTICS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not listen on 127.0.0.1:{port} within {timeout}s")


# --- tiny models ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def tiny_tokenizer_dir(tmp_path_factory) -> Path:
    """The bundled SmolLM2 tokenizer (with its chat template), extracted from the GGUF once."""
    from transformers import AutoTokenizer

    from distilloop.student.model import bundled_gguf

    gguf = bundled_gguf()
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    out = tmp_path_factory.mktemp("tokenizer")
    tokenizer.save_pretrained(out)
    return out


def save_random_model(tokenizer_dir: Path, out: Path, config_class, model_class, dtype=None, **sizes) -> int:
    """A causal LM of `sizes` with random weights from seed 0 and the tokenizer of `tokenizer_dir`, saved
    to `out`; returns its parameter count."""
    import torch
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    config = config_class(
        vocab_size=len(tokenizer),
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **sizes,
    )
    torch.manual_seed(0)
    model = model_class(config)
    if dtype is not None:
        model = model.to(dtype)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return sum(p.numel() for p in model.parameters())


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_tokenizer_dir, tmp_path_factory) -> Path:
    """A 2-layer, hidden-64 Llama (SmolLM2's architecture) with random weights from seed 0."""
    from transformers import LlamaConfig, LlamaForCausalLM

    out = tmp_path_factory.mktemp("tiny-llama")
    save_random_model(
        tiny_tokenizer_dir,
        out,
        LlamaConfig,
        LlamaForCausalLM,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
    )
    return out


# answers that are complete before the model stops: a tiny model trained to recite them, text after included
RECITED = {
    "Score the profile of ann_lee7.": (
        'Here it is: {"handle": "ann_lee7", "reason": "knows \\"}\\" and {braces}", '
        '"extra": {"n": 1}} and then the model keeps talking about it'
    ),
    "Write the gate check.": "Sure.\n```c\nint gate_open(void) { return 1; }\n```\nThat is all, and then more words",
    "Score the fenced profile.": '```json\n{"handle": "x"}\n```\nfollowed by more text',
}


@pytest.fixture(scope="session")
def reciting_dir(tiny_model_dir, tmp_path_factory):
    """The tiny Llama trained until it recites RECITED's answers to their prompts, each with more text after
    the complete answer and then its end-of-sequence token."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from distilloop.config import StudentParams
    from distilloop.student.generation import render_prompts

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    rows = []
    for prompt, answer in RECITED.items():
        head = tokenizer(render_prompts(tokenizer, [prompt], StudentParams())[0], add_special_tokens=False)["input_ids"]
        tail = tokenizer(answer, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        rows.append((torch.tensor([head + tail]), len(head)))
    torch.manual_seed(0)
    optimiser = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for _ in range(300):
        for ids, start in rows:
            labels = ids.clone()
            labels[0, :start] = -100
            model(input_ids=ids, labels=labels).loss.backward()
        optimiser.step()
        optimiser.zero_grad()
    out = tmp_path_factory.mktemp("reciting-llama")
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def write_jsonl(path: Path, records: list[dict]) -> None:
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")


def c_record(index: int) -> tuple[str, str]:
    """A short prompt and C answer; the index varies names and constants so no two are the same."""
    prompt = f"Write a C99 function `uint16_t pack_{index}(uint8_t pcp, uint16_t vid)` for TSN case {index}."
    answer = (
        f"uint16_t pack_{index}(uint8_t pcp, uint16_t vid)\n{{\n"
        f"    return (uint16_t)((((uint16_t)pcp & 0x7U) << 13U) | (vid & 0x{index % 16:X}FFU));\n}}\n"
    )
    return prompt, answer


@pytest.fixture
def train_project(tmp_path, tiny_model_dir, monkeypatch) -> Path:
    """A project directory ready for train@1, and the working directory of the test: models/base is the
    tiny model, runs/epoch-0/adapter a fresh LoRA adapter (B = 0, as the baseline stage makes it, with the
    default params.train.lora shape), runs/epoch-1/lesson.jsonl 16 records, data/export/val.jsonl 6 records
    with a reference and one without."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from distilloop.config import LoraParams

    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "base").symlink_to(tiny_model_dir)
    lora = LoraParams()
    torch.manual_seed(0)  # LoRA A is random: the goldens need the same adapter whatever ran before
    model = get_peft_model(
        AutoModelForCausalLM.from_pretrained(tiny_model_dir),
        LoraConfig(
            r=lora.r,
            lora_alpha=lora.alpha,
            lora_dropout=lora.dropout,
            target_modules=lora.target_modules,
            task_type="CAUSAL_LM",
        ),
    )
    model.save_pretrained(tmp_path / "runs" / "epoch-0" / "adapter")
    train = [dict(zip(("prompt", "completion"), c_record(i)), id=f"t{i}", source="seed") for i in range(16)]
    write_jsonl(tmp_path / "runs" / "epoch-1" / "lesson.jsonl", train)
    val = [
        {"id": f"v{i}", "task": "c_code", "prompt": c_record(i)[0], "reference": c_record(i)[1]} for i in range(16, 22)
    ]
    val.append({"id": "v-noref", "task": "c_code", "prompt": "Explain VLAN tags."})
    write_jsonl(tmp_path / "data" / "export" / "val.jsonl", val)
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- PostgreSQL -----------------------------------------------------------------------------------


def _postgres_bin() -> Path:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if candidates:
        return candidates[-1].parent
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise RuntimeError("PostgreSQL is not installed: run `make setup`")


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory):
    """A real PostgreSQL server on 127.0.0.1 for this test session; yields an SQLAlchemy URL."""
    bin_dir = _postgres_bin()
    run_as: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root: run the server as the postgres user
        data = Path(tempfile.mkdtemp(prefix="distilloop-pg-"))  # pytest's tmp dirs are private to root
        user = pwd.getpwnam("postgres")
        os.chown(data, user.pw_uid, user.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    else:
        data = tmp_path_factory.mktemp("pgdata")
    subprocess.run(
        [*run_as, str(bin_dir / "initdb"), "-D", str(data), "-U", "distilloop", "-A", "trust", "--no-sync"],
        check=True,
        capture_output=True,
    )
    port = free_port()
    server = subprocess.Popen(
        [
            *run_as,
            str(bin_dir / "postgres"),
            "-D",
            str(data),
            "-p",
            str(port),
            "-h",
            "127.0.0.1",
            "-k",
            str(data),
            "-F",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, server)
        url = f"postgresql+psycopg2://distilloop@127.0.0.1:{port}/postgres"
        _wait_for_sql(url)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)


def _wait_for_sql(url: str, timeout: float = 30.0) -> None:
    import sqlalchemy

    deadline = time.monotonic() + timeout
    while True:
        engine = sqlalchemy.create_engine(url)
        try:
            with engine.connect() as connection:
                connection.execute(sqlalchemy.text("SELECT 1"))
            return
        except sqlalchemy.exc.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
        finally:
            engine.dispose()


# --- S3 (moto server) -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory):
    """A moto S3 server on 127.0.0.1 (a real S3 endpoint over HTTP); sets dummy credentials."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    saved = {key: os.environ.get(key) for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    try:
        wait_for_port(port, server)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# --- running the CLI and DVC as a user would -------------------------------------------------------


def cli_env(**extra: str) -> dict:
    """The environment for subprocesses: this interpreter's bin dir first (distilloop, dvc), no analytics."""
    env = dict(os.environ, DVC_NO_ANALYTICS="1", PYTHONPATH=str(ROOT), **extra)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def run_cli(*args: str, cwd: Path | str | None = None, env: dict | None = None, timeout: float = 600):
    """`distilloop ARGS` in a subprocess; returns the CompletedProcess (text output)."""
    return subprocess.run(
        [sys.executable, "-m", "distilloop.cli", *args],
        cwd=cwd,
        env=env or cli_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_one_line_error(result, *fragments: str) -> None:
    """A user-caused error: exit 1, exactly one line on stderr naming the problem, no traceback."""
    assert result.returncode == 1, (result.returncode, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("distilloop: error: "), lines[0]
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture
def project(tmp_path) -> Path:
    """A fresh copy of this project (tracked and new, not ignored files) in a new git repository, as a clone."""
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    dest = tmp_path / "project"
    for name in filter(None, files.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    git = ["git", "-c", "user.email=test@distilloop.invalid", "-c", "user.name=test"]
    subprocess.run([*git, "init", "-q"], cwd=dest, check=True)
    subprocess.run([*git, "add", "-A"], cwd=dest, check=True)
    subprocess.run([*git, "commit", "-qm", "clone"], cwd=dest, check=True)
    return dest


# --- teacher servers ------------------------------------------------------------------------------


@pytest.fixture
def teacher_server():
    """Start local teacher servers (OpenAI, Anthropic and Bedrock shapes, fault injection by prompt)
    on free ports: `teacher_server(answers={...}, delay_s=..., expected_key=...)`."""
    from fake_teacher_server import FakeTeacherServer

    started = []

    def start(**options) -> FakeTeacherServer:
        server = FakeTeacherServer(**options).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.shutdown()
        server.server_close()


def write_stage_subset(dest: Path, *names: str) -> None:
    """dvc.yaml with only the named stages of the project's pipeline, so a test can run one stage under
    DVC with inputs it wrote itself instead of every stage before it."""
    import yaml

    pipeline = yaml.safe_load((ROOT / "dvc.yaml").read_text())
    subset = {"stages": {name: pipeline["stages"][name] for name in names}}
    (dest / "dvc.yaml").write_text(yaml.safe_dump(subset, sort_keys=False))
