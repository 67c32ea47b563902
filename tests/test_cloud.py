"""distilloop cloud: the SageMaker request, the container's entry point, spot interruptions, the nightly
state machine. Real protocols on 127.0.0.1: a moto server stands for S3 (the DVC remote, the code upload,
SageMaker's checkpoint sync) and for the AWS control-plane APIs it implements; no AWS account is used.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, cli_env, write_stage_subset

from distilloop.config import parse

ADAPTER = "adapter_model.safetensors"


# --- a project for the entry point: train@1 only, on the tiny model ---------------------------------


def s3_client(endpoint: str):
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")


def make_bucket(endpoint: str, name: str) -> None:
    s3 = s3_client(endpoint)
    if name not in [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=name)


def git_project(project: Path, tiny_model_dir: Path, s3_endpoint: str, train: dict) -> str:
    """Turn train_project's directory into a committed distilloop project whose pipeline is train@1 alone,
    with a DVC remote on the moto server. Returns the commit."""
    Path("models/base").unlink()
    shutil.copytree(tiny_model_dir, "models/base")
    Path("runs/epoch-1/pairs.jsonl").write_text("")
    write_stage_subset(project, "train")
    Path("metrics/epochs").mkdir(parents=True, exist_ok=True)
    Path("metrics/epochs/0.json").write_text('{"epoch": 0, "converged": false}')
    for code in ("stages", "distilloop"):
        shutil.copytree(ROOT / code, code, ignore=shutil.ignore_patterns("__pycache__"))
    params = {"train": train, "loop": {"epochs": {"1": 0}}, "student": {"system_prompt": None}}
    Path("params.yaml").write_text(yaml.safe_dump(parse(params).model_dump(mode="json"), sort_keys=False))
    make_bucket(s3_endpoint, "remote")
    env = cli_env()
    for command in (
        ["git", "init", "-q"],
        ["dvc", "init", "-q"],
        ["dvc", "remote", "add", "-d", "storage", "s3://remote/dvc"],
        ["dvc", "remote", "modify", "storage", "endpointurl", s3_endpoint],
        ["git", "add", "-A"],
        ["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "project"],
    ):
        subprocess.run(command, cwd=project, check=True, env=env, capture_output=True)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=project, capture_output=True, text=True).stdout.strip()


def sagemaker_root(root: Path, project: Path, commit: str, hyperparameters: dict) -> Path:
    """SageMaker's /opt/ml as a training container sees it: hyperparameters.json and the code channel."""
    from distilloop.cloud.code import archive

    config = root / "input" / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "hyperparameters.json").write_text(json.dumps(hyperparameters))
    archive(project, commit, root / "input" / "data" / "code" / "code.tar.gz")
    return root


def entrypoint_env(root: Path, **extra: str) -> dict:
    return cli_env(
        DISTILLOOP_SM_ROOT=str(root),
        DISTILLOOP_MODEL_OUTPUTS="runs/epoch-1/adapter metrics/epochs/1-train.json",
        **extra,
    )


def entrypoint(*args: str) -> list[str]:
    return [sys.executable, "-m", "distilloop.cloud.entrypoint", *args]


def checkpoint_sync_double(endpoint: str, local: Path, uri_prefix: str) -> None:
    """What SageMaker does to /opt/ml/checkpoints around a spot restart, done for real against S3: every file
    uploaded to CheckpointConfig.S3Uri, the instance gone, the files downloaded to the new instance. (A double
    of SageMaker's sync agent: files only, so file modes, symlinks and empty directories do not survive.)"""
    s3 = s3_client(endpoint)
    make_bucket(endpoint, "checkpoints")
    for path in sorted(local.rglob("*")):
        if path.is_file() and not path.is_symlink():
            s3.upload_file(str(path), "checkpoints", f"{uri_prefix}/{path.relative_to(local)}")
    shutil.rmtree(local.parent)  # the instance is gone: /opt/ml with it
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket="checkpoints", Prefix=f"{uri_prefix}/")
    for page in pages:
        for item in page.get("Contents", []):
            target = local / item["Key"][len(uri_prefix) + 1 :]
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file("checkpoints", item["Key"], str(target))


@pytest.mark.slow
def test_entrypoint_killed_by_sigterm_resumes_from_synced_checkpoint_to_the_same_adapter(
    train_project, tiny_model_dir, s3_endpoint, tmp_path
):
    train = dict(epochs=2, batch_size=4, eval_steps=4, dtype="float32", threads=1, early_stopping_patience=0)
    commit = git_project(train_project, tiny_model_dir, s3_endpoint, train)
    hyperparameters = {"train.epochs": "6"}  # -S: 24 steps instead of the committed 8
    minutes = {"DISTILLOOP_CHECKPOINT_MINUTES": "60"}  # only steps and SIGTERM make checkpoints here

    # the uninterrupted job
    straight = sagemaker_root(tmp_path / "straight", train_project, commit, hyperparameters)
    started = time.monotonic()
    result = subprocess.run(
        entrypoint("train"), env=entrypoint_env(straight, **minutes), capture_output=True, text=True, timeout=900
    )
    straight_s = time.monotonic() - started
    assert result.returncode == 0, result.stderr[-3000:]
    print(f"uninterrupted job: {straight_s:.1f} s")
    straight_metrics = json.loads((straight / "model/metrics/epochs/1-train.json").read_text())
    assert straight_metrics["steps"] == 24 and straight_metrics["resumed_from_step"] is None

    # the same job on a spot instance: SIGTERM (SageMaker's two-minute warning) in the middle of training
    spot = sagemaker_root(tmp_path / "spot", train_project, commit, hyperparameters)
    env = entrypoint_env(spot, **minutes)
    job = subprocess.Popen(entrypoint("train"), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    project = spot / "checkpoints" / "project"
    curve = project / "runs/epoch-1/live/plots/metrics/loss.tsv"
    deadline = time.monotonic() + 600
    while job.poll() is None and time.monotonic() < deadline:
        if curve.exists() and len(curve.read_text().splitlines()) > 6:  # header + 6 steps: past checkpoint-4
            break
        time.sleep(0.02)
    job.send_signal(signal.SIGTERM)
    _, stderr = job.communicate(timeout=300)
    assert job.returncode == 143, stderr[-3000:]
    assert "interrupted (SIGTERM)" in stderr and "train: SIGTERM: checkpoint-" in stderr, stderr[-3000:]
    checkpoints = sorted(
        int(path.name.split("-")[1]) for path in (project / "runs/epoch-1/checkpoints").glob("checkpoint-*")
    )
    interrupted_at = checkpoints[-1]
    assert 6 <= interrupted_at < 24, checkpoints  # written on SIGTERM, not at the end
    assert not (project / "runs/epoch-1/adapter").exists() and not (spot / "model/runs").exists()

    # a new instance: only what SageMaker synced to CheckpointConfig.S3Uri comes back
    checkpoint_sync_double(s3_endpoint, spot / "checkpoints", "job-1")
    sagemaker_root(spot, train_project, commit, hyperparameters)  # the same job's config and code channel
    result = subprocess.run(entrypoint("train"), env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "restored from the checkpoint directory" in result.stderr
    resumed = json.loads((spot / "model/metrics/epochs/1-train.json").read_text())
    assert resumed["resumed_from_step"] == interrupted_at and resumed["steps"] == 24
    assert resumed["train_loss"] == pytest.approx(straight_metrics["train_loss"], abs=1e-6)

    from safetensors.torch import load_file

    a = load_file(str(straight / "model/runs/epoch-1/adapter" / ADAPTER))
    b = load_file(str(spot / "model/runs/epoch-1/adapter" / ADAPTER))
    assert a.keys() == b.keys()
    largest = max(float((a[name] - b[name]).abs().max()) for name in a)
    print(f"interrupted at step {interrupted_at}; largest adapter difference {largest:g}")
    assert largest == 0  # bit-identical: same batches, optimiser and RNG state after the resume (1 thread, fp32)
    # the results went to the DVC remote (dvc push): the adapter's files are on the moto S3 server
    stored = s3_client(s3_endpoint).list_objects_v2(Bucket="remote", Prefix="dvc/")
    assert stored.get("KeyCount", 0) >= 2


class SavedSteps:
    """A TrainerCallback recording the step of every checkpoint the trainer saves."""

    def __init__(self):
        from transformers import TrainerCallback

        steps = self.steps = []

        class Recorder(TrainerCallback):
            def on_save(self, args, state, control, **kwargs):
                steps.append(state.global_step)

        self.callback = Recorder()


def test_timed_checkpoints_add_saves_between_step_checkpoints_and_change_nothing_trained(
    train_project, tmp_path, monkeypatch
):
    from safetensors.torch import load_file
    from test_train import make_params

    from distilloop.training.interruption import CheckpointOnTimeAndSigterm, interruption_callbacks
    from stages import train as stage

    params = make_params(epochs=1, eval_steps=2)  # 4 steps, step checkpoints at 2 and 4
    plain = SavedSteps()
    assert interruption_callbacks() == []  # outside the container nothing changes
    stage.run(params, epoch=1, out_dir=tmp_path / "plain", extra_callbacks=(plain.callback,))

    monkeypatch.setenv("DISTILLOOP_CHECKPOINT_DIR", str(tmp_path / "sm-checkpoints"))
    monkeypatch.setenv("DISTILLOOP_CHECKPOINT_MINUTES", "0")  # every step is past the interval
    assert [type(c) for c in interruption_callbacks()] == [CheckpointOnTimeAndSigterm]
    assert interruption_callbacks(processes=2) == []  # DDP ranks would disagree on the time
    timed = SavedSteps()
    stage.run(params, epoch=1, out_dir=tmp_path / "timed", extra_callbacks=(timed.callback,))

    assert plain.steps == [2, 4] and timed.steps == [1, 2, 3, 4]
    a = load_file(str(tmp_path / "plain/adapter" / ADAPTER))
    b = load_file(str(tmp_path / "timed/adapter" / ADAPTER))
    assert all(a[name].equal(b[name]) for name in a)  # saving draws nothing: the same adapter, bit for bit
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the trainer's handler is gone after training


# --- distilloop cloud run / status / logs against the moto server -------------------------------------

ROLE = "arn:aws:iam::123456789012:role/distilloop-sagemaker"
IMAGE = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/distilloop:cpu"


@pytest.fixture
def cloud_project(project, s3_endpoint):
    """A clone of this project with a default DVC remote committed, and the AWS environment of a user:
    region and (dummy) credentials, endpoints on the moto server."""
    env = cli_env()
    for command in (
        ["dvc", "remote", "add", "-d", "storage", "s3://remote/dvc"],
        ["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qam", "remote"],
    ):
        subprocess.run(command, cwd=project, check=True, env=env, capture_output=True)
    make_bucket(s3_endpoint, "jobs")
    return project


def cloud_env(endpoint: str | None = None, **extra: str) -> dict:
    env = cli_env(AWS_REGION="us-east-1", AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="s3cr3t-never-echoed")
    env.pop("AWS_DEFAULT_REGION", None)
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint  # boto3 sends every service there
    return {**env, **extra}


def cloud(*args: str, cwd: Path, env: dict):
    from conftest import run_cli

    return run_cli("cloud", *args, cwd=cwd, env=env)


def test_dry_run_prints_the_training_job_request_and_sends_nothing(cloud_project):
    env = cloud_env(endpoint="http://127.0.0.1:9")  # nothing listens there: a request would fail
    result = cloud(
        "run", "--dry-run", "-S", "train.epochs=2", "-S", "quality_threshold=7.5", "--image", IMAGE,
        "--role", ROLE, "--s3", "s3://jobs/distilloop", "--instance-type", "ml.g5.xlarge", "--max-run", "7200",
        cwd=cloud_project, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    request = json.loads(result.stdout)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cloud_project, capture_output=True, text=True).stdout
    commit = commit.strip()
    assert request["TrainingJobName"].startswith(f"distilloop-{commit[:8]}-")
    assert request["AlgorithmSpecification"]["TrainingImage"] == IMAGE
    assert (
        request["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] == f"s3://jobs/distilloop/code/{commit}/"
    )
    assert request["ResourceConfig"] == {"InstanceType": "ml.g5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 100}
    assert request["EnableManagedSpotTraining"] is True
    assert request["StoppingCondition"] == {"MaxRuntimeInSeconds": 7200, "MaxWaitTimeInSeconds": 14400}
    assert request["CheckpointConfig"] == {
        "S3Uri": f"s3://jobs/distilloop/checkpoints/{request['TrainingJobName']}/",
        "LocalPath": "/opt/ml/checkpoints",
    }
    assert request["HyperParameters"] == {"train.epochs": "2", "quality_threshold": "7.5"}
    # the metric definitions pick the entry point's printed figures out of the log
    import re

    from distilloop.cloud.metrics import metric_lines

    definitions = {d["Name"]: re.compile(d["Regex"]) for d in request["AlgorithmSpecification"]["MetricDefinitions"]}
    summary = {
        "best_epoch": 2,
        "best_test": {"pass_rate": 0.8523, "mean_score": 8.1},
        "q4_k_m": {"test_pass_rate": 0.84, "size_mb": 101.3},
    }
    log = "\n".join(["some stage output", *metric_lines(summary)])
    found = {name: float(m.group(1)) for name, rx in definitions.items() if (m := rx.search(log))}
    assert found == {
        "best_epoch": 2.0,
        "best_test_pass_rate": 0.8523,
        "best_test_mean_score": 8.1,
        "shipped_test_pass_rate": 0.84,
        "shipped_size_mb": 101.3,
    }
    assert "dry run: nothing sent" in result.stderr and "s3cr3t" not in result.stdout + result.stderr
    no_spot = cloud(
        "run",
        "--dry-run",
        "--no-spot",
        "--image",
        IMAGE,
        "--role",
        ROLE,
        "--s3",
        "s3://jobs/x",
        cwd=cloud_project,
        env=env,
    )
    request = json.loads(no_spot.stdout)
    assert request["EnableManagedSpotTraining"] is False and "MaxWaitTimeInSeconds" not in request["StoppingCondition"]


def test_bad_input_is_one_line_and_nonzero(cloud_project, tmp_path):
    from conftest import assert_one_line_error

    env = cloud_env()
    base = ["run", "--dry-run", "--image", IMAGE, "--role", ROLE, "--s3", "s3://jobs/x"]
    assert_one_line_error(cloud(*base, "-S", "no-equals", cwd=cloud_project, env=env), "-S 'no-equals'")
    assert_one_line_error(cloud(*base[:-2], "--s3", "jobs/x", cwd=cloud_project, env=env), "expected an S3 URI")
    assert_one_line_error(
        cloud("run", "--dry-run", "--image", IMAGE, "--role", "admin", "--s3", "s3://j", cwd=cloud_project, env=env),
        "IAM role ARN",
    )
    assert_one_line_error(
        cloud(*base, "--max-run", "7200", "--max-wait", "3600", cwd=cloud_project, env=env), "--max-wait 3600"
    )
    assert_one_line_error(
        cloud("run", "--dry-run", "--role", ROLE, "--s3", "s3://j", cwd=cloud_project, env=env), "no training image"
    )
    no_region = cloud_env()
    no_region.pop("AWS_REGION")
    assert_one_line_error(cloud("status", "some-job", cwd=cloud_project, env=no_region), "no AWS region")
    (tmp_path / "bare").mkdir()
    subprocess.run(["git", "init", "-q"], cwd=tmp_path / "bare", check=True)
    assert_one_line_error(cloud(*base, cwd=tmp_path / "bare", env=env), "git rev-parse")
    subprocess.run(
        ["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "x"],
        cwd=tmp_path / "bare",
        check=True,
    )
    assert_one_line_error(cloud(*base, cwd=tmp_path / "bare", env=env), "no default DVC remote")


def test_run_creates_the_job_on_the_control_plane_and_status_and_logs_read_it_back(cloud_project, s3_endpoint):
    env = cloud_env(endpoint=s3_endpoint)
    args = ["--image", IMAGE, "--role", ROLE, "--s3", "s3://jobs/distilloop", "--job-name", "nightly-test-1"]
    result = cloud("run", "-S", "train.epochs=2", *args, cwd=cloud_project, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "nightly-test-1"
    assert "s3cr3t" not in result.stdout + result.stderr

    # the code channel holds `git archive HEAD`: tracked files at that commit
    import io
    import tarfile

    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=cloud_project, capture_output=True, text=True
    ).stdout.strip()
    body = s3_client(s3_endpoint).get_object(Bucket="jobs", Key=f"distilloop/code/{commit}/code.tar.gz")["Body"].read()
    names = tarfile.open(fileobj=io.BytesIO(body)).getnames()
    assert "dvc.yaml" in names and "distilloop/cloud/entrypoint.py" in names and ".dvc/config" in names
    assert not any(name.startswith((".git/", ".venv/")) for name in names)

    import boto3

    job = boto3.client("sagemaker", endpoint_url=s3_endpoint, region_name="us-east-1").describe_training_job(
        TrainingJobName="nightly-test-1"
    )
    assert job["AlgorithmSpecification"]["TrainingImage"] == IMAGE and job["RoleArn"] == ROLE
    assert job["HyperParameters"] == {"train.epochs": "2"}
    status = cloud("status", "nightly-test-1", cwd=cloud_project, env=env)
    assert status.returncode == 0, status.stderr
    assert status.stdout.splitlines()[0].startswith(f"nightly-test-1: {job['TrainingJobStatus']}")
    missing = cloud("status", "no-such-job", cwd=cloud_project, env=env)
    assert missing.returncode == 1 and "DescribeTrainingJob no-such-job" in missing.stderr

    # SageMaker writes the container's output to CloudWatch Logs; here the test puts two lines there
    logs = boto3.client("logs", endpoint_url=s3_endpoint, region_name="us-east-1")
    logs.create_log_group(logGroupName="/aws/sagemaker/TrainingJobs")
    stream = "nightly-test-1/algo-1-1700000000"
    logs.create_log_stream(logGroupName="/aws/sagemaker/TrainingJobs", logStreamName=stream)
    lines = ["distilloop-entrypoint: $ dvc repro", "distilloop-metric best_test_pass_rate=0.85"]
    logs.put_log_events(
        logGroupName="/aws/sagemaker/TrainingJobs",
        logStreamName=stream,
        logEvents=[{"timestamp": int(time.time() * 1000) + i, "message": line} for i, line in enumerate(lines)],
    )
    printed = cloud("logs", "nightly-test-1", cwd=cloud_project, env=env)
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout.splitlines() == lines


# --- the nightly state machine ---------------------------------------------------------------------

STATES_ROLE = "arn:aws:iam::123456789012:role/distilloop-states"
EVENTS_ROLE = "arn:aws:iam::123456789012:role/distilloop-events"
LIST = "arn:aws:states:::aws-sdk:sagemaker:listModelPackages"
DESCRIBE = "arn:aws:states:::aws-sdk:sagemaker:describeModelPackage"
CREATE = "arn:aws:states:::aws-sdk:sagemaker:createModelPackage"
TRAIN = "arn:aws:states:::sagemaker:createTrainingJob.sync"


def nightly_plan():
    from distilloop.cloud.job import JobSpec
    from distilloop.cloud.schedule import build

    spec = JobSpec(image=IMAGE, role=ROLE, s3="s3://jobs/distilloop", commit="a" * 40, job_name="distilloop-nightly")
    return build(
        spec, "s3://jobs/distilloop/code/" + "a" * 40 + "/", "distilloop", "cron(0 2 * * ? *)", STATES_ROLE, EVENTS_ROLE
    )


def control_plane_double(figures: dict | None, previous: dict | None, training_error: str | None = None):
    """Task results as SageMaker would return them (a control-plane double: the interpreter calls it instead of
    AWS): the finished job's DescribeTrainingJob, the registry's last Approved package, what was registered."""
    from distilloop.cloud.asl import StatesError

    registered = []

    def train(request):
        if training_error:
            raise StatesError("SageMaker.AmazonSageMakerException", training_error)
        metrics = [
            {"MetricName": name, "Value": value, "Timestamp": "2025-01-01T02:00:00Z"}
            for name, value in (figures or {}).items()
        ]
        return {
            "TrainingJobName": request["TrainingJobName"],
            "TrainingJobStatus": "Completed",
            "ModelArtifacts": {
                "S3ModelArtifacts": f"s3://jobs/distilloop/output/{request['TrainingJobName']}/output/model.tar.gz"
            },
            "FinalMetricDataList": [{"MetricName": "best_epoch", "Value": 2.0}, *metrics],
        }

    def last(request):
        assert request["ModelApprovalStatus"] == "Approved" and request["SortOrder"] == "Descending"
        summaries = [{"ModelPackageArn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/distilloop/3"}]
        return {"ModelPackageSummaryList": summaries if previous else []}

    def describe(request):
        assert request["ModelPackageName"].endswith("/distilloop/3")
        return {"CustomerMetadataProperties": {name: json.dumps(value) for name, value in previous.items()}}

    def create(request):
        registered.append(request)
        return {
            "ModelPackageArn": f"arn:aws:sagemaker:us-east-1:123456789012:model-package/distilloop/{len(registered) + 3}"
        }

    return {TRAIN: train, LIST: last, DESCRIBE: describe, CREATE: create}, registered


def test_the_schedule_is_valid_states_language_with_the_intended_ends():
    from distilloop.cloud.asl import validate

    definition = nightly_plan()["definition"]
    assert validate(definition, {"Registered", "Rejected", "TrainingFailed", "NoFigures"}) == []
    assert definition["States"]["Train"]["Resource"] == TRAIN
    assert definition["States"]["Rejected"]["Type"] == "Fail"
    # the checker is not vacuous: a dangling Next, an orphan state and an extra end are each reported
    broken = json.loads(json.dumps(definition))
    broken["States"]["Figures"]["Next"] = "Nowhere"
    broken["States"]["Orphan"] = {"Type": "Succeed"}
    problems = validate(broken, {"Registered", "Rejected", "TrainingFailed", "NoFigures"})
    assert "Figures: goes to undefined state 'Nowhere'" in problems
    assert "Orphan: not reachable from StartAt" in problems
    assert any(p.startswith("terminal states") for p in problems)


NEW = {"shipped_test_pass_rate": 0.84, "best_test_pass_rate": 0.85, "best_test_mean_score": 8.1}


@pytest.mark.parametrize(
    "previous, end, status",
    [
        (None, "Registered", "Approved"),  # the first model: nothing to beat
        (dict(NEW), "Registered", "Approved"),  # at least as good: equal figures pass
        ({**NEW, "best_test_mean_score": 7.9}, "Registered", "Approved"),
        ({**NEW, "shipped_test_pass_rate": 0.86}, "Rejected", "Rejected"),  # worse on one figure: rollback
    ],
)
def test_the_gate_registers_a_model_only_when_it_is_at_least_the_last_approved(previous, end, status):
    from distilloop.cloud.asl import run

    definition = nightly_plan()["definition"]
    tasks, registered = control_plane_double(NEW, previous)
    state, output, trace = run(definition, {}, tasks, {"Execution": {"Name": "e7"}})
    assert state == end
    [package] = registered
    assert package["ModelApprovalStatus"] == status and package["ModelPackageGroupName"] == "distilloop"
    assert package["CustomerMetadataProperties"] == {
        "training_job": "distilloop-e7",
        "shipped_test_pass_rate": "0.84",
        "best_test_pass_rate": "0.85",
        "best_test_mean_score": "8.1",
    }
    container = package["InferenceSpecification"]["Containers"][0]
    assert container == {
        "Image": IMAGE,
        "ModelDataUrl": "s3://jobs/distilloop/output/distilloop-e7/output/model.tar.gz",
    }
    training = dict(trace)["Train"]
    assert training["TrainingJobName"] == "distilloop-e7"
    assert training["CheckpointConfig"]["S3Uri"] == "s3://jobs/distilloop/checkpoints/distilloop-e7/"
    if end == "Rejected":
        assert output["Error"] == "distilloop.ModelRejected"


def test_a_failed_job_or_missing_figures_register_nothing():
    from distilloop.cloud.asl import run

    definition = nightly_plan()["definition"]
    tasks, registered = control_plane_double(NEW, None, training_error="ClientError: capacity")
    assert run(definition, {}, tasks)[0] == "TrainingFailed" and registered == []
    tasks, registered = control_plane_double({"best_test_pass_rate": 0.9}, None)  # quantise never ran
    assert run(definition, {}, tasks)[0] == "NoFigures" and registered == []


def test_schedule_apply_creates_the_state_machine_rule_and_registry_group(cloud_project, s3_endpoint):
    import boto3

    env = cloud_env(endpoint=s3_endpoint)
    args = ["--image", IMAGE, "--role", ROLE, "--s3", "s3://jobs/distilloop", "--states-role", STATES_ROLE]
    args += ["--events-role", EVENTS_ROLE, "--out", "cloud-out"]
    written = cloud("schedule", *args, cwd=cloud_project, env=env)  # files only
    assert written.returncode == 0, written.stderr
    definition = json.loads((cloud_project / "cloud-out/state-machine.json").read_text())
    schedule = json.loads((cloud_project / "cloud-out/schedule.json").read_text())
    assert schedule["ScheduleExpression"] == "cron(0 2 * * ? *)"
    applied = cloud("schedule", *args, "--apply", cwd=cloud_project, env=env)
    assert applied.returncode == 0, applied.stderr
    again = cloud("schedule", *args, "--apply", "--cron", "rate(7 days)", cwd=cloud_project, env=env)
    assert again.returncode == 0 and "updated state machine" in again.stdout, again.stderr

    client = lambda service: boto3.client(service, endpoint_url=s3_endpoint, region_name="us-east-1")
    [machine] = [m for m in client("stepfunctions").list_state_machines()["stateMachines"] if m["name"] == "distilloop"]
    described = client("stepfunctions").describe_state_machine(stateMachineArn=machine["stateMachineArn"])
    assert json.loads(described["definition"]) == definition and described["roleArn"] == STATES_ROLE
    rule = client("events").describe_rule(Name="distilloop")
    assert rule["ScheduleExpression"] == "rate(7 days)"
    [target] = client("events").list_targets_by_rule(Rule="distilloop")["Targets"]
    assert target["Arn"] == machine["stateMachineArn"] and target["RoleArn"] == EVENTS_ROLE
    groups = client("sagemaker").list_model_package_groups()["ModelPackageGroupSummaryList"]
    assert [g["ModelPackageGroupName"] for g in groups] == ["distilloop"]
    bad = cloud("schedule", *args, "--cron", "nightly", cwd=cloud_project, env=env)
    assert bad.returncode == 1 and "--cron 'nightly'" in bad.stderr


# --- the container ---------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_dockerfile_takes_the_base_as_a_build_arg_and_runs_the_entry_point():
    instructions = dockerfile_instructions()
    assert all(
        op in {"ARG", "FROM", "ENV", "RUN", "WORKDIR", "COPY", "EXPOSE", "ENTRYPOINT", "CMD"} for op, _ in instructions
    )
    assert instructions[0] == ("ARG", "BASE=python:3.11-slim-bookworm") and instructions[1] == ("FROM", "${BASE}")
    assert ("ARG", "TORCH_INDEX=https://download.pytorch.org/whl/cpu") in instructions
    assert json.loads(dict(instructions)["ENTRYPOINT"]) == [
        "/usr/bin/tini",
        "--",
        "python",
        "-m",
        "distilloop.cloud.entrypoint",
    ]
    assert json.loads(dict(instructions)["CMD"]) == ["train"]
    run = " ".join(arg for op, arg in instructions if op == "RUN")
    assert "scripts/setup.sh" in run and "torch==2.13.0" in run  # the pinned stack of pyproject.toml
    assert "torch==2.13.0" in (ROOT / "pyproject.toml").read_text()
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "models", "runs"} <= set(ignored)


def docker_daemon() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.slow
@pytest.mark.skipif(not docker_daemon(), reason="no Docker daemon here (docker info fails): the image is not built")
def test_docker_build_and_the_entry_point_inside():
    subprocess.run(["docker", "build", "-t", "distilloop:test", str(ROOT)], check=True, timeout=3600)
    result = subprocess.run(["docker", "run", "--rm", "distilloop:test", "nonsense"], capture_output=True, text=True)
    assert result.returncode == 1 and "usage: python -m distilloop.cloud.entrypoint train|serve" in result.stderr


def test_entry_point_errors_and_what_serve_would_serve(tmp_path):
    from conftest import assert_one_line_error

    from distilloop.cloud.entrypoint import served_model

    env = cli_env(DISTILLOOP_SM_ROOT=str(tmp_path / "ml"))
    usage = subprocess.run(entrypoint("nonsense"), env=env, capture_output=True, text=True)
    assert_one_line_error(usage, "train|serve")
    no_code = subprocess.run(entrypoint("train"), env=env, capture_output=True, text=True)
    assert_one_line_error(no_code, "input/data/code: expected one .tar.gz")
    assert "expected one .tar.gz" in (tmp_path / "ml/output/failure").read_text()  # SageMaker's FailureReason
    config = tmp_path / "ml/input/config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text('{"train epochs": "2"}')
    bad_key = subprocess.run(entrypoint("train"), env=env, capture_output=True, text=True)
    assert_one_line_error(bad_key, "'train epochs' is not a params.yaml key")

    model = tmp_path / "ml/model"
    (model / "models/gguf").mkdir(parents=True)
    for name in ("model-f16.gguf", "model-q4_k_m.gguf"):
        (model / "models/gguf" / name).write_bytes(b"GGUF")
    with pytest.raises(Exception, match="exactly one .gguf"):
        served_model(model)
    (model / "models/gguf/Modelfile").write_text("FROM ./model-q4_k_m.gguf\nTEMPLATE x\n")
    assert served_model(model) == (model / "models/gguf/model-q4_k_m.gguf").resolve()
