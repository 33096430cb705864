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
