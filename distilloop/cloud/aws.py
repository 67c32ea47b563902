"""boto3 clients configured from the environment only (AWS_REGION / AWS_DEFAULT_REGION, the usual
credential chain; AWS_ENDPOINT_URL[_<SERVICE>] for a local endpoint), and AWS errors as one line."""

from __future__ import annotations

import contextlib
import os

from distilloop import UserError


def region() -> str:
    name = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not name:
        raise UserError("no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION) in the environment")
    return name


def client(service: str):
    import boto3

    return boto3.session.Session().client(service, region_name=region())


@contextlib.contextmanager
def aws_errors(what: str):
    """botocore's errors as a UserError naming the call; never the request, which may carry secrets."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    try:
        yield
    except NoCredentialsError:
        raise UserError(
            f"{what}: no AWS credentials in the environment (AWS_PROFILE or AWS_ACCESS_KEY_ID...)"
        ) from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise UserError(f"{what}: {error.get('Code', 'error')}: {error.get('Message', '')}".rstrip(": ")) from None
    except BotoCoreError as exc:
        raise UserError(f"{what}: {exc}") from None


def split_s3(uri: str) -> tuple[str, str]:
    """s3://bucket/prefix -> (bucket, prefix without slashes at either end)."""
    if not uri.startswith("s3://") or not uri[5:].split("/", 1)[0]:
        raise UserError(f"{uri!r}: expected an S3 URI such as s3://my-bucket/distilloop")
    bucket, _, prefix = uri[5:].partition("/")
    return bucket, prefix.strip("/")
