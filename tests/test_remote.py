"""The S3 remote: push every output to a real S3 endpoint (moto on 127.0.0.1), lose the cache and the
outputs, pull, and find the workspace identical and `dvc status` clean."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

from conftest import cli_env


def dvc(project: Path, *args: str, env: dict) -> str:
    result = subprocess.run(["dvc", *args], cwd=project, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"dvc {' '.join(args)}: {result.stdout}{result.stderr}"
    return result.stdout


def digests(root: Path) -> dict[str, str]:
    return {str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*")) if path.is_file()}


def test_push_remove_pull_restores_every_output(project, s3_endpoint):
    import boto3

    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket="distilloop")
    env = cli_env(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    params = (project / "params.yaml").read_text().replace("source: bundled:c_code", "source: bundled:json_record")
    (project / "params.yaml").write_text(params)
    dvc(project, "repro", env=env)
    # the remote setup the README documents; credentials stay in the environment, never in .dvc/config
    dvc(project, "remote", "add", "-d", "storage", "s3://distilloop/cache", env=env)
    dvc(project, "remote", "modify", "storage", "endpointurl", s3_endpoint, env=env)
    assert "testing" not in (project / ".dvc/config").read_text()

    outputs = [project / "data/export"]
    before = {str(out): digests(out) for out in outputs}
    assert all(before.values())
    pushed = dvc(project, "push", env=env)
    assert "pushed" in pushed
    stored = boto3.client("s3", endpoint_url=s3_endpoint).list_objects_v2(Bucket="distilloop", Prefix="cache/")
    assert stored["KeyCount"] > 0

    shutil.rmtree(project / ".dvc/cache")
    for out in outputs:
        shutil.rmtree(out)
    dvc(project, "pull", env=env)
    assert {str(out): digests(out) for out in outputs} == before
    status = dvc(project, "status", env=env)
    assert "Data and pipelines are up to date" in status
