"""The S3 object store (boto3) against moto's S3 server on a free port."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from service_runtime.clock import FakeClock
from tests.conftest import free_port
from tests.unit.tracker.factories import T0, make_series
from tests.unit.tracker.fakes import FakePriceSource, FakeSignalStore
from tracker.adapters.object_store.factory import open_object_store
from tracker.adapters.object_store.s3 import RULE_ID, S3ObjectStore, lifecycle_rule
from tracker.bootstrap import build_components
from tracker.config import load_settings
from tracker.domain import SEED_LIFECYCLE, ArchiveCorrupted, ArchiveUnavailable, archive_keys

pytestmark = pytest.mark.integration

BUCKET = "argo-archive"


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    try:
        yield client
    finally:
        listed = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
        for item in listed:
            client.delete_object(Bucket=BUCKET, Key=item["Key"])
        client.delete_bucket(Bucket=BUCKET)
        client.close()


@pytest.mark.asyncio
async def test_put_get_and_missing_objects(s3: Any, moto_endpoint: str) -> None:
    store = open_object_store(f"s3://{BUCKET}/tracker/prod", s3_endpoint_url=moto_endpoint)
    assert isinstance(store, S3ObjectStore)
    try:
        assert await store.get("signals/none.parquet") is None
        await store.put("signals/a.bin", b"\x00parquet\xff")
        assert await store.get("signals/a.bin") == b"\x00parquet\xff"
        raw = s3.get_object(Bucket=BUCKET, Key="tracker/prod/signals/a.bin")["Body"].read()
        assert raw == b"\x00parquet\xff"
        assert store.url("signals/a.bin") == f"s3://{BUCKET}/tracker/prod/signals/a.bin"
    finally:
        await store.aclose()


@pytest.mark.asyncio
async def test_the_tiered_lifecycle_is_applied_beside_existing_rules(
    s3: Any, moto_endpoint: str
) -> None:
    other = {
        "ID": "someone-elses-rule",
        "Filter": {"Prefix": "tmp/"},
        "Status": "Enabled",
        "Expiration": {"Days": 7},
    }
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [other]})
    store = S3ObjectStore(BUCKET, "tracker", endpoint_url=moto_endpoint)
    try:
        assert await store.apply_lifecycle(SEED_LIFECYCLE, "signals/") is True
        assert await store.apply_lifecycle(SEED_LIFECYCLE, "signals/") is True  # idempotent
        rules = {r["ID"]: r for r in await store.lifecycle_rules()}
    finally:
        await store.aclose()
    assert set(rules) == {"someone-elses-rule", RULE_ID}
    ours = rules[RULE_ID]
    assert ours["Filter"] == {"Prefix": "tracker/signals/"}
    assert [(t["Days"], t["StorageClass"]) for t in ours["Transitions"]] == [
        (30, "STANDARD_IA"),
        (365, "GLACIER"),
        (2555, "DEEP_ARCHIVE"),
    ]
    assert lifecycle_rule(SEED_LIFECYCLE, "x/")["Status"] == "Enabled"


@pytest.mark.asyncio
async def test_archive_round_trip_on_s3_and_corruption_detected(
    s3: Any, moto_endpoint: str
) -> None:
    clock = FakeClock(T0 + timedelta(days=40))
    store = FakeSignalStore()
    settings = load_settings(
        {"ARCHIVE_URL": f"s3://{BUCKET}/tracker", "ARCHIVE_S3_ENDPOINT_URL": moto_endpoint}
    )
    c = await build_components(settings, clock=clock, store=store, prices=FakePriceSource())
    try:
        await c.tracker.record_signals(make_series(30))
        runs = await c.archive.run_due()
        [run] = [r for r in runs if r.manifest.day == T0.date()]
        key = "tracker/" + archive_keys(T0.date()).data
        body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        assert run.manifest.sha256 == hashlib.sha256(body).hexdigest()
        assert run.manifest.location == f"s3://{BUCKET}/{key}"
        assert len(await c.archive.day_rows(T0.date())) == 30
        manifest = s3.get_object(Bucket=BUCKET, Key="tracker/" + archive_keys(T0.date()).manifest)
        assert run.manifest.sha256.encode() in manifest["Body"].read()
        rules = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
        assert [r["ID"] for r in rules] == [RULE_ID]  # applied by the first run
        s3.put_object(Bucket=BUCKET, Key=key, Body=body[:-10] + b"0123456789")
        c.archive._cache.clear()
        with pytest.raises(ArchiveCorrupted):
            await c.archive.day_rows(T0.date())
    finally:
        await c.exit_stack.aclose()


@pytest.mark.asyncio
async def test_an_unreachable_endpoint_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    store = S3ObjectStore(
        BUCKET, endpoint_url=f"http://127.0.0.1:{free_port()}", region="us-east-1"
    )
    try:
        with pytest.raises(ArchiveUnavailable, match="S3 get"):
            await store.get("signals/x")
    finally:
        await store.aclose()
