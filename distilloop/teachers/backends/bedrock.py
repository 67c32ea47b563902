"""The `bedrock` teacher: AWS Bedrock's Converse API through boto3 (credentials from the usual AWS
environment). Botocore's own retries are off, so the one policy in `retry` applies."""

from __future__ import annotations

import os

from distilloop import UserError
from distilloop.teachers import CallError, Reply, Request, Teacher
from distilloop.teachers.retry import error_for_status


class BedrockTeacher(Teacher):
    backend = "bedrock"
    remote = True

    def __init__(self, params):
        super().__init__(params)
        import boto3
        from botocore.config import Config

        region = params.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if not region:
            raise UserError("teacher bedrock: no AWS region: set teacher.region or AWS_REGION")
        config = Config(
            retries={"total_max_attempts": 1, "mode": "standard"},
            connect_timeout=min(params.timeout_s, 10),
            read_timeout=params.timeout_s,
            max_pool_connections=params.concurrency,
        )
        self.client = boto3.client("bedrock-runtime", region_name=region, endpoint_url=params.base_url, config=config)

    def complete(self, request: Request) -> Reply:
        from botocore import exceptions as aws

        try:
            data = self.client.converse(
                modelId=self.model,
                messages=[{"role": "user", "content": [{"text": request.prompt}]}],
                system=[{"text": request.system}],
                inferenceConfig={
                    "maxTokens": request.max_tokens or self.params.max_tokens,
                    "temperature": self.params.temperature,
                },
            )
        except aws.ClientError as exc:
            meta = exc.response.get("ResponseMetadata", {})
            error = exc.response.get("Error", {})
            status = meta.get("HTTPStatusCode") or 500
            if error.get("Code") == "ThrottlingException":
                status = 429
            raise error_for_status(
                status, f"{error.get('Code', '')}: {error.get('Message', '')}", meta.get("HTTPHeaders", {})
            ) from None
        except (aws.ReadTimeoutError, aws.ConnectTimeoutError) as exc:
            raise CallError("timeout", type(exc).__name__, retryable=True) from None
        except aws.NoCredentialsError:
            raise UserError("teacher bedrock: no AWS credentials in the environment") from None
        except (aws.EndpointConnectionError, aws.ConnectionClosedError) as exc:
            raise CallError("connection error", type(exc).__name__, retryable=True) from None
        except (aws.ResponseParserError, ValueError) as exc:
            raise CallError("malformed response", type(exc).__name__, retryable=True) from None
        try:
            blocks = data["output"]["message"]["content"]
            text = "".join(block.get("text", "") for block in blocks)
            usage = data.get("usage") or {}
            input_tokens, output_tokens = int(usage.get("inputTokens", 0)), int(usage.get("outputTokens", 0))
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise CallError("malformed response", f"no output.message.content ({exc!r})", retryable=True) from None
        if not text.strip():
            raise CallError(
                "empty content", f"stopReason {data.get('stopReason')!r}", usage=(input_tokens, output_tokens)
            )
        return Reply(text, input_tokens, output_tokens, truncated=data.get("stopReason") == "max_tokens")
