"""The SageMaker CreateTrainingJob request for one run of the pipeline (`dvc repro`, or `dvc exp run -S`
with the -S overrides as HyperParameters), and sending it."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from distilloop import UserError
from distilloop.cloud.aws import aws_errors, client, split_s3
from distilloop.cloud.layout import CODE_CHANNEL, PARAM_KEY
from distilloop.cloud.metrics import metric_definitions

CHECKPOINT_LOCAL_PATH = "/opt/ml/checkpoints"
JOB_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
ROLE_ARN = re.compile(r"^arn:aws[a-z\-]*:iam::\d{12}:role/\S+$")


@dataclass
class JobSpec:
    image: str
    role: str
    s3: str  # s3://bucket/prefix: code/, checkpoints/ and output/ go under it
    commit: str
    instance_type: str = "ml.g5.xlarge"
    instance_count: int = 1
    spot: bool = True
    max_run_s: int = 6 * 3600
    max_wait_s: int | None = None  # spot only: run time plus waiting for capacity; default 2 x max_run
    volume_gb: int = 100
    checkpoint_minutes: float = 30.0
    overrides: dict[str, str] = field(default_factory=dict)
    job_name: str | None = None


def parse_overrides(pairs: list[str]) -> dict[str, str]:
    """-S key=value pairs (as `dvc exp run -S` takes them) -> HyperParameters."""
    overrides = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not PARAM_KEY.match(key):
            raise UserError(f"-S {pair!r}: expected key=value with a params.yaml key, e.g. -S train.epochs=2")
        if len(value) > 2500:
            raise UserError(f"-S {key}: SageMaker takes hyperparameter values of at most 2500 characters")
        overrides[key] = value
    return overrides


def job_name(commit: str, now: float | None = None) -> str:
    return f"distilloop-{commit[:8]}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime(now))}"


def build_request(spec: JobSpec, code_uri: str) -> dict:
    if not spec.image:
        raise UserError("no training image: pass --image or set DISTILLOOP_IMAGE (an ECR image URI, see docs/cloud.md)")
    if not ROLE_ARN.match(spec.role or ""):
        raise UserError(
            f"--role {spec.role!r}: expected an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME) or DISTILLOOP_SAGEMAKER_ROLE"
        )
    bucket, prefix = split_s3(spec.s3)
    base = f"s3://{bucket}/{prefix + '/' if prefix else ''}"
    name = spec.job_name or job_name(spec.commit)
    if not JOB_NAME.match(name):
        raise UserError(f"job name {name!r}: 1-63 letters, digits and hyphens")
    if spec.instance_count < 1:
        raise UserError(f"--instance-count {spec.instance_count}: at least 1")
    stopping = {"MaxRuntimeInSeconds": spec.max_run_s}
    if spec.spot:
        wait = spec.max_wait_s or 2 * spec.max_run_s
        if wait < spec.max_run_s:
            raise UserError(f"--max-wait {wait}: must be at least --max-run {spec.max_run_s} (seconds)")
        stopping["MaxWaitTimeInSeconds"] = wait
    elif spec.max_wait_s:
        raise UserError("--max-wait applies to spot jobs only (drop it or add --spot)")
    return {
        "TrainingJobName": name,
        "RoleArn": spec.role,
        "AlgorithmSpecification": {
            "TrainingImage": spec.image,
            "TrainingInputMode": "File",
            "MetricDefinitions": metric_definitions(),
        },
        "HyperParameters": dict(spec.overrides),
        "InputDataConfig": [
            {
                "ChannelName": CODE_CHANNEL,
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": code_uri,
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
                "ContentType": "application/x-tar",
                "InputMode": "File",
            }
        ],
        "OutputDataConfig": {"S3OutputPath": f"{base}output/"},
        "ResourceConfig": {
            "InstanceType": spec.instance_type,
            "InstanceCount": spec.instance_count,
            "VolumeSizeInGB": spec.volume_gb,
        },
        "StoppingCondition": stopping,
        "EnableManagedSpotTraining": spec.spot,
        "CheckpointConfig": {"S3Uri": f"{base}checkpoints/{name}/", "LocalPath": CHECKPOINT_LOCAL_PATH},
        "Environment": {
            "DVC_NO_ANALYTICS": "1",
            "DISTILLOOP_CHECKPOINT_MINUTES": f"{spec.checkpoint_minutes:g}",
        },
        "Tags": [{"Key": "distilloop:commit", "Value": spec.commit}],
    }


def create(request: dict) -> str:
    with aws_errors(f"CreateTrainingJob {request['TrainingJobName']}"):
        return client("sagemaker").create_training_job(**request)["TrainingJobArn"]
