from __future__ import annotations

import pytest

from observability.redaction import REDACTED, Redactor, secrets_from_environ


@pytest.mark.parametrize(
    ("text", "leak"),
    [
        pytest.param("postgresql://argo:s3cr3t-pw@db:5432/argo", "s3cr3t-pw", id="url-password"),
        pytest.param("redis://:r3dis-pw@cache:6379/0", "r3dis-pw", id="url-password-no-user"),
        pytest.param("GET /query?function=X&apikey=AVKEY123&symbol=A", "AVKEY123", id="query"),
        pytest.param("Authorization: Bearer xai-abcdef123456", "xai-abcdef123456", id="bearer"),
    ],
)
def test_text_masks_secret_shaped_substrings(text: str, leak: str) -> None:
    out = Redactor().text(text)
    assert leak not in out
    assert REDACTED in out


def test_known_secret_values_are_masked_anywhere() -> None:
    redactor = Redactor(secrets_from_environ({"POLYGON_API_KEY": "pk_live_98765", "X": "1"}))
    assert redactor.text("calling polygon with pk_live_98765 now") == "calling polygon with *** now"


def test_values_under_secret_keys_are_masked_and_nested_structures_walked() -> None:
    out = Redactor().value("payload", {"api_key": "abc", "nested": ["x", {"password": "p"}]})
    assert out == {"api_key": REDACTED, "nested": ["x", {"password": REDACTED}]}


def test_environ_scan_finds_keys_and_url_passwords_but_not_plain_values() -> None:
    found = secrets_from_environ(
        {
            "ALPACA_API_SECRET_KEY": "alpaca-secret",
            "DATABASE_URL": "postgresql://u:dbpass@h/db",
            "REDIS_URL": "redis://:redispass@h:6379/0",  # requirepass: no user name
            "SYMBOLS": "AAPL,MSFT",
        }
    )
    assert set(found) == {"alpaca-secret", "dbpass", "redispass"}
