"""Settings from the environment and tunables from the YAML file."""

from __future__ import annotations

import pytest

from service_runtime.settings import ConfigError
from tracker.config import Tunables, load_settings, parse_tunables


def test_defaults() -> None:
    settings = load_settings({})
    assert settings.common.service_name == "tracker"
    assert (settings.common.grpc_port, settings.common.admin_port) == (50053, 9103)
    assert settings.database_url is None
    assert settings.db_statement_timeout_ms == 5000 and settings.db_pool_max == 10


def test_database_variables() -> None:
    settings = load_settings(
        {
            "DATABASE_URL": "postgresql://argo@db:5432/argo",
            "DB_STATEMENT_TIMEOUT_MS": "2500",
            "DB_POOL_MAX": "20",
        }
    )
    assert settings.database_url == "postgresql://argo@db:5432/argo"
    assert (settings.db_statement_timeout_ms, settings.db_pool_max) == (2500, 20)


def test_bad_database_url_names_the_variable_but_not_the_password() -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL") as error:
        load_settings({"DATABASE_URL": "mysql://user:s3cret@db/argo"})
    assert "s3cret" not in str(error.value)
    with pytest.raises(ConfigError, match="DB_POOL_MAX"):
        load_settings({"DB_POOL_MAX": "0"})


def test_tunables_from_top_level_or_section() -> None:
    assert parse_tunables({}) == Tunables()
    assert parse_tunables({"query_default_page_size": 25}).query_default_page_size == 25
    section = parse_tunables({"tracker": {"slow_storage_seconds": 1}})
    assert section.slow_storage_seconds == 1.0


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"query_default_page_size": 0}, "query_default_page_size"),
        ({"query_default_page_size": 2.5}, "query_default_page_size"),
        ({"query_default_page_size": True}, "query_default_page_size"),
        ({"slow_storage_seconds": "fast"}, "slow_storage_seconds"),
        ({"slow_storage_seconds": float("nan")}, "slow_storage_seconds"),
        ({"page_size": 10}, "page_size"),
        ({"tracker": 3}, "tracker"),
    ],
)
def test_bad_tunables_name_the_key(raw: dict[str, object], key: str) -> None:
    with pytest.raises(ValueError, match=key):
        parse_tunables(raw)


def test_outcome_and_archive_defaults() -> None:
    s = load_settings({})
    assert (s.market_gateway_addr, s.gateway_deadline_seconds) == ("127.0.0.1:50051", 2.0)
    assert s.outcome_tracking is True and s.db_ingest_method == "copy"
    assert s.archive_url is None and s.archive_compression == "zstd"
    assert (s.archive_csv, s.archive_retention_days, s.archive_lifecycle) == (False, 30, True)
    assert (s.archive_s3_endpoint_url, s.archive_s3_region) == (None, None)


def test_outcome_and_archive_variables() -> None:
    s = load_settings(
        {
            "MARKET_GATEWAY_ADDR": "gateway:50051",
            "OUTCOME_TRACKING": "off",
            "DB_INGEST_METHOD": "UNNEST",
            "ARCHIVE_URL": "s3://bucket/prefix",
            "ARCHIVE_COMPRESSION": "snappy",
            "ARCHIVE_CSV": "yes",
            "ARCHIVE_RETENTION_DAYS": "7",
            "ARCHIVE_LIFECYCLE": "false",
            "AWS_REGION": "eu-west-1",
        }
    )
    assert (s.market_gateway_addr, s.outcome_tracking, s.db_ingest_method) == (
        "gateway:50051",
        False,
        "unnest",
    )
    assert (s.archive_url, s.archive_compression, s.archive_csv) == (
        "s3://bucket/prefix",
        "snappy",
        True,
    )
    assert (s.archive_retention_days, s.archive_lifecycle, s.archive_s3_region) == (
        7,
        False,
        "eu-west-1",
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MARKET_GATEWAY_ADDR", "no-port"),
        ("ARCHIVE_URL", "ftp://host/x"),
        ("ARCHIVE_COMPRESSION", "gzip"),
        ("ARCHIVE_CSV", "maybe"),
        ("ARCHIVE_RETENTION_DAYS", "0"),
        ("DB_INGEST_METHOD", "insert"),
        ("GATEWAY_DEADLINE_SECONDS", "0"),
    ],
)
def test_bad_outcome_and_archive_variables_name_themselves(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings({name: value})


def test_outcome_and_calibration_tunables() -> None:
    t = parse_tunables(
        {"tracker": {"outcome_poll_seconds": 5, "hold_band_pct": 1, "calibration_min_samples": 50}}
    )
    assert (t.outcome_poll_seconds, t.hold_band_pct, t.calibration_min_samples) == (5.0, 1.0, 50)
    for key, bad in (
        ("outcome_batch_size", 0),
        ("calibration_min_samples", 5),
        ("hold_band_pct", -1),
        ("analytics_refresh_seconds", 0.5),
    ):
        with pytest.raises(ValueError, match=key):
            parse_tunables({key: bad})
