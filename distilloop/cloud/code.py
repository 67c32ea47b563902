"""The project's code at git HEAD, as the training job's `code` input channel: `git archive HEAD` (tracked
files only, so never .dvc/config.local, .env or other ignored files with secrets) gzipped, at
<s3 prefix>/code/<commit>/code.tar.gz. Data and models do not travel here: the job pulls them through the
project's DVC remote."""

from __future__ import annotations

import subprocess
from pathlib import Path

from distilloop import UserError
from distilloop.cloud.aws import aws_errors, client, split_s3

ARCHIVE = "code.tar.gz"


def git(*args: str, cwd: Path = Path(".")) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise UserError(
            f"git {' '.join(args)}: {result.stderr.strip().splitlines()[-1] if result.stderr else 'failed'}"
        )
    return result.stdout.strip()


def head_commit(project: Path = Path(".")) -> str:
    return git("rev-parse", "--verify", "HEAD", cwd=project)


def is_dirty(project: Path = Path(".")) -> bool:
    return bool(git("status", "--porcelain", "--untracked-files=no", cwd=project))


def default_remote_url(project: Path = Path(".")) -> str:
    """The default DVC remote's URL as committed at HEAD (the job sees .dvc/config, never config.local)."""
    import configparser

    text = subprocess.run(["git", "show", "HEAD:.dvc/config"], cwd=project, capture_output=True, text=True).stdout
    config = configparser.ConfigParser()
    config.read_string(text)
    name = config.get("core", "remote", fallback=None)
    url = config.get(f"'remote \"{name}\"'", "url", fallback=None) if name else None
    if not url:
        raise UserError(
            ".dvc/config at HEAD names no default DVC remote: the job pulls and pushes data and models through it "
            "(dvc remote add -d storage s3://BUCKET/PATH, then commit .dvc/config)"
        )
    return url


def code_uri(s3_prefix: str, commit: str) -> str:
    bucket, prefix = split_s3(s3_prefix)
    return f"s3://{bucket}/{prefix + '/' if prefix else ''}code/{commit}/"


def archive(project: Path, commit: str, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    git("archive", "--format=tar.gz", "-o", str(out), commit, cwd=project)
    return out


def upload(project: Path, commit: str, uri: str, scratch: Path) -> str:
    """Upload the archive of `commit` under `uri` (skipped when that commit's archive is there already)."""
    bucket, prefix = split_s3(uri)
    key = f"{prefix}/{ARCHIVE}"
    s3 = client("s3")
    with aws_errors(f"s3://{bucket}/{key}"):
        existing = s3.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount", 0)
        if not existing:
            s3.upload_file(str(archive(project, commit, scratch / ARCHIVE)), bucket, key)
    return f"s3://{bucket}/{key}"
