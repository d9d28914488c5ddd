"""The boto3 client for the AWS Well-Architected Tool. Credentials and the region come from
the standard AWS chain (environment, shared files, instance or task role); throttling and
transient errors are retried by the SDK's standard retry mode."""

from __future__ import annotations

from typing import Any

from reviews.errors import ServiceError

MAX_ATTEMPTS = 6  # the first try and five retries


class AwsUnavailable(ServiceError):
    """boto3 is not installed (it is the optional extra `aws`)."""


def wellarchitected_client(
    *, region: str | None = None, endpoint_url: str | None = None, max_attempts: int = MAX_ATTEMPTS
) -> Any:
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise AwsUnavailable(
            "Talking to the AWS Well-Architected Tool needs boto3: pip install 'pillarwise[aws]'."
        ) from None
    config = Config(
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        user_agent_extra="pillarwise",
    )
    return boto3.client(
        "wellarchitected", region_name=region or None, endpoint_url=endpoint_url, config=config
    )
