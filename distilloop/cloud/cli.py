"""`distilloop cloud ...`: launch the pipeline as a SageMaker training job, follow it, schedule it nightly.

Region and credentials come from the environment only (AWS_REGION, AWS_PROFILE or AWS_ACCESS_KEY_ID...);
nothing here reads or prints a secret.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    help="Run the pipeline as a SageMaker (spot) training job, follow it, schedule it nightly (docs/cloud.md).",
)

Image = Annotated[
    str, typer.Option(envvar="DISTILLOOP_IMAGE", help="the training image's ECR URI (docs/cloud.md builds it)")
]
Role = Annotated[str, typer.Option(envvar="DISTILLOOP_SAGEMAKER_ROLE", help="IAM role ARN the job runs as")]
S3 = Annotated[
    str,
    typer.Option("--s3", envvar="DISTILLOOP_CLOUD_S3", help="s3://bucket/prefix for code/, checkpoints/, output/"),
]
Settings = Annotated[
    list[str] | None, typer.Option("-S", "--set-param", help="a params override, as `dvc exp run -S key=value`")
]
InstanceType = Annotated[str, typer.Option(help="SageMaker instance type (docs/cloud.md has prices)")]
Spot = Annotated[bool, typer.Option("--spot/--no-spot", help="managed spot training (restarts resume)")]
MaxRun = Annotated[int, typer.Option(min=60, help="seconds the job may train")]
MaxWait = Annotated[int | None, typer.Option(min=60, help="spot: seconds in all, waiting included (default 2x)")]


def job_spec(image, role, s3, settings, instance_type, instance_count, spot, max_run, max_wait, minutes, job_name):
    from distilloop.cloud.code import head_commit
    from distilloop.cloud.job import JobSpec, parse_overrides

    return JobSpec(
        image=image,
        role=role,
        s3=s3,
        commit=head_commit(),
        instance_type=instance_type,
        instance_count=instance_count,
        spot=spot,
        max_run_s=max_run,
        max_wait_s=max_wait,
        checkpoint_minutes=minutes,
        overrides=parse_overrides(settings or []),
        job_name=job_name,
    )


def note(message: str) -> None:
    print(message, file=sys.stderr)


@app.command()
def run(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="print the request as JSON; send nothing")] = False,
    settings: Settings = None,
    image: Image = "",
    role: Role = "",
    s3: S3 = "",
    instance_type: InstanceType = "ml.g5.xlarge",
    instance_count: Annotated[int, typer.Option(min=1, help="instances (1: the pipeline runs on one)")] = 1,
    spot: Spot = True,
    max_run: MaxRun = 6 * 3600,
    max_wait: MaxWait = None,
    checkpoint_minutes: Annotated[float, typer.Option(min=1, help="minutes between time checkpoints")] = 30.0,
    job_name: Annotated[str | None, typer.Option(help="default distilloop-<commit>-<UTC time>")] = None,
):
    """Launch `dvc repro` (or `dvc exp run -S ...`) of the project at git HEAD as a SageMaker training job."""
    from distilloop.cloud import code, job

    spec = job_spec(
        image, role, s3, settings, instance_type, instance_count, spot, max_run, max_wait, checkpoint_minutes, job_name
    )
    remote = code.default_remote_url()
    if code.is_dirty():
        note(f"note: uncommitted changes are not sent; the job runs commit {spec.commit[:12]}")
    uri = code.code_uri(spec.s3 or "s3://-", spec.commit)
    request = job.build_request(spec, uri)
    if dry_run:
        print(json.dumps(request, indent=2))
        note(f"dry run: nothing sent; `git archive {spec.commit[:12]}` would go to {uri}, data via DVC remote {remote}")
        return
    with tempfile.TemporaryDirectory(prefix="distilloop-code-") as scratch:
        code.upload(Path("."), spec.commit, uri, Path(scratch))
    arn = job.create(request)
    print(request["TrainingJobName"])
    note(f"created {arn}; follow it with `distilloop cloud status|logs {request['TrainingJobName']}`")


@app.command()
def status(name: Annotated[str, typer.Argument(help="training job name")]):
    """The job's status, times (spot savings), final headline metrics and model location."""
    from distilloop.cloud.monitor import describe, status_lines

    print("\n".join(status_lines(describe(name))))


@app.command()
def logs(
    name: Annotated[str, typer.Argument(help="training job name")],
    limit: Annotated[int, typer.Option(min=1, help="at most this many lines per instance")] = 10000,
):
    """The job's log lines from CloudWatch Logs (/aws/sagemaker/TrainingJobs), oldest first."""
    from distilloop.cloud.monitor import log_events

    for line in log_events(name, limit):
        print(line)


@app.command()
def schedule(
    apply: Annotated[
        bool, typer.Option("--apply", help="create/update them in AWS (else only write the files)")
    ] = False,
    out: Annotated[Path, typer.Option(help="where the definitions are written")] = Path("cloud"),
    cron: Annotated[str, typer.Option(help="EventBridge schedule expression (UTC)")] = "cron(0 2 * * ? *)",
    name: Annotated[str, typer.Option(help="name of the state machine, rule and model package group")] = "distilloop",
    states_role: Annotated[
        str, typer.Option(envvar="DISTILLOOP_STATES_ROLE", help="IAM role ARN the state machine runs as")
    ] = "",
    events_role: Annotated[
        str, typer.Option(envvar="DISTILLOOP_EVENTS_ROLE", help="IAM role ARN EventBridge starts it with")
    ] = "",
    settings: Settings = None,
    image: Image = "",
    role: Role = "",
    s3: S3 = "",
    instance_type: InstanceType = "ml.g5.xlarge",
    spot: Spot = True,
    max_run: MaxRun = 6 * 3600,
    max_wait: MaxWait = None,
):
    """A Step Functions state machine (train, compare with the last registered model, register or reject) and
    an EventBridge schedule that starts it. The code is HEAD's, uploaded with --apply."""
    from distilloop.cloud import code
    from distilloop.cloud import schedule as nightly

    spec = job_spec(image, role, s3, settings, instance_type, 1, spot, max_run, max_wait, 30.0, "distilloop-nightly")
    code.default_remote_url()
    uri = code.code_uri(spec.s3 or "s3://-", spec.commit)
    plan = nightly.build(spec, uri, name=name, cron=cron, states_role=states_role, events_role=events_role)
    written = nightly.write(plan, out)
    note(f"wrote {', '.join(str(path) for path in written)}")
    if apply:
        with tempfile.TemporaryDirectory(prefix="distilloop-code-") as scratch:
            code.upload(Path("."), spec.commit, uri, Path(scratch))
        for line in nightly.apply(plan):
            print(line)
