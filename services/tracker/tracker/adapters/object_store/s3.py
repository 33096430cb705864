"""ObjectStore on S3 (boto3; any S3-compatible endpoint such as MinIO).

boto3 is blocking, so every call runs in a worker thread. Uploads carry Content-MD5, so
S3 rejects a body damaged in transit. Credentials come from the usual AWS chain
(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, or the pod's IAM role).

The tiered lifecycle becomes one rule (ID `argo-tracker-archive-tiers`) on the archive's
prefix; other rules already on the bucket are kept.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import boto3  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from tracker.domain import ArchiveUnavailable, LifecycleTier

T = TypeVar("T")
RULE_ID = "argo-tracker-archive-tiers"
_MISSING = {"NoSuchKey", "404", "NotFound"}


def lifecycle_rule(tiers: Sequence[LifecycleTier], prefix: str) -> dict[str, Any]:
    """The S3 lifecycle rule moving objects under `prefix` through the tiers."""
    return {
        "ID": RULE_ID,
        "Filter": {"Prefix": prefix},
        "Status": "Enabled",
        "Transitions": [
            {"Days": tier.after_days, "StorageClass": tier.storage_class}
            for tier in sorted(tiers, key=lambda t: t.after_days)
        ],
    }


class S3ObjectStore:
    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        client: Any = None,
    ) -> None:
        self._bucket = bucket
        self._prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self._endpoint_url = endpoint_url
        self._region = region
        self._client = client

    def url(self, key: str) -> str:
        return f"s3://{self._bucket}/{self._prefix}{key}"

    async def put(self, key: str, data: bytes) -> None:
        digest = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
        await self._call(
            "put",
            lambda s3: s3.put_object(
                Bucket=self._bucket, Key=self._prefix + key, Body=data, ContentMD5=digest
            ),
        )

    async def get(self, key: str) -> bytes | None:
        def read(s3: Any) -> bytes | None:
            try:
                response = s3.get_object(Bucket=self._bucket, Key=self._prefix + key)
            except ClientError as e:
                if e.response.get("Error", {}).get("Code") in _MISSING:
                    return None
                raise
            body: bytes = response["Body"].read()
            return body

        return await self._call("get", read)

    async def apply_lifecycle(self, tiers: Sequence[LifecycleTier], prefix: str) -> bool:
        rule = lifecycle_rule(tiers, self._prefix + prefix)

        def apply(s3: Any) -> bool:
            try:
                current = s3.get_bucket_lifecycle_configuration(Bucket=self._bucket)["Rules"]
            except ClientError as e:
                if e.response.get("Error", {}).get("Code") != "NoSuchLifecycleConfiguration":
                    raise
                current = []
            rules = [r for r in current if r.get("ID") != RULE_ID] + [rule]
            s3.put_bucket_lifecycle_configuration(
                Bucket=self._bucket, LifecycleConfiguration={"Rules": rules}
            )
            return True

        return await self._call("apply_lifecycle", apply)

    async def lifecycle_rules(self) -> list[dict[str, Any]]:
        """The bucket's lifecycle rules (for operators and tests)."""

        def read(s3: Any) -> list[dict[str, Any]]:
            rules: list[dict[str, Any]] = s3.get_bucket_lifecycle_configuration(
                Bucket=self._bucket
            )["Rules"]
            return rules

        return await self._call("lifecycle_rules", read)

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await asyncio.to_thread(client.close)

    def _s3(self) -> Any:
        if self._client is None:
            self._client = boto3.session.Session().client(
                "s3",
                endpoint_url=self._endpoint_url,
                region_name=self._region,
                config=Config(
                    connect_timeout=5,
                    read_timeout=30,
                    retries={"max_attempts": 3, "mode": "standard"},
                ),
            )
        return self._client

    async def _call(self, operation: str, call: Callable[[Any], T]) -> T:
        try:
            return await asyncio.to_thread(lambda: call(self._s3()))
        except (BotoCoreError, ClientError) as e:
            raise ArchiveUnavailable(f"S3 {operation} on bucket {self._bucket} failed: {e}") from e
