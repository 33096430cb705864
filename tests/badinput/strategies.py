"""Hypothesis strategies for the values every API shares: symbols, numbers, timestamps, enums.

`bad_*` strategies draw values that are certainly malformed (every one of them must be
rejected); `*_spellings` draw accepted spellings of symbols the fakes know.
"""

from __future__ import annotations

import base64
import json
import string
from datetime import date
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import strategies as st

# Timestamp's documented range: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999999Z.
MIN_SECONDS = -62_135_596_800
MAX_SECONDS = 253_402_300_799
INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)

WHITESPACE = " \t\r\n\x0b\x0c"
CONTROL = [chr(c) for c in range(32)] + ["\x7f"]
PUNCTUATION = "$!@#%^&*()+=,;'\"<>?\\|`~[]{} _"
# Non-ASCII letters whose upper case is ASCII ("ı" -> "I", "ß" -> "SS", "ﬁ" -> "FI"), and
# look-alikes: a symbol spelled with them is not the ticker it resembles.
TRICKY_UNICODE = [
    "\u0131", "\u017f", "\u00df", "\ufb01", "\ufb00", "\u212a", "\uff21", "\u00e9",
    "\u200b", "\u00a0", "\ufeff",
]  # fmt: skip


def _insert_inside(base: str, chars: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """`base` with a drawn character inserted strictly inside it (never at an end, where
    surrounding whitespace is legitimately stripped)."""
    return st.tuples(st.integers(1, len(base) - 1), chars).map(
        lambda at_char: base[: at_char[0]] + at_char[1] + base[at_char[0] :]
    )


def bad_symbols(bases: tuple[str, ...] = ("AAPL", "MSFT", "BTC-USD")) -> st.SearchStrategy[str]:
    """Symbols no API may accept: empty, blank, too long, or with a control character,
    non-ASCII character or punctuation inside a real ticker."""
    inside = st.one_of(
        st.sampled_from(TRICKY_UNICODE),
        st.sampled_from(CONTROL),
        st.characters(min_codepoint=128, exclude_categories=["Cs"]),
        st.sampled_from(PUNCTUATION),
    )
    injected = st.sampled_from(bases).flatmap(lambda base: _insert_inside(base, inside))
    return st.one_of(
        st.text(alphabet=WHITESPACE, max_size=4),
        st.text(alphabet=string.ascii_uppercase, min_size=33, max_size=300),
        injected,
        injected,
    )


def spellings(canonical: str) -> list[str]:
    """Accepted spellings of a canonical symbol (case, padding, crypto separators)."""
    found = [canonical, canonical.lower(), f" {canonical}\t"]
    if canonical.endswith("-USD"):
        base = canonical.removesuffix("-USD")
        found += [f"{base}/USD", f"X:{base}USD", f"{base.lower()}usd"]
    return found


def symbol_spellings(known: tuple[str, ...]) -> st.SearchStrategy[str]:
    return st.sampled_from([s for canonical in known for s in spellings(canonical)])


def bad_enum(known: int) -> st.SearchStrategy[int]:
    """UNSPECIFIED (0) or a number outside 0..known: open enums carry any int32."""
    return st.one_of(st.just(0), st.integers(known + 1, INT32[1]), st.integers(INT32[0], -1))


NON_FINITE = st.sampled_from([float("nan"), float("inf"), float("-inf")])


def outside(low: float, high: float) -> st.SearchStrategy[float]:
    """NaN, infinities, or finite numbers outside low..high."""
    return st.one_of(
        NON_FINITE,
        st.floats(max_value=low, exclude_max=True, allow_nan=False, allow_infinity=False),
        st.floats(min_value=high, exclude_min=True, allow_nan=False, allow_infinity=False),
    )


def bad_timestamps() -> st.SearchStrategy[Timestamp]:
    """Timestamps outside the documented range (seconds or nanos)."""
    return st.one_of(
        st.builds(Timestamp, seconds=st.integers(INT64[0], MIN_SECONDS - 1)),
        st.builds(Timestamp, seconds=st.integers(MAX_SECONDS + 1, INT64[1])),
        st.builds(Timestamp, seconds=st.just(1_700_000_000), nanos=st.integers(INT32[0], -1)),
        st.builds(Timestamp, seconds=st.just(1_700_000_000), nanos=st.integers(10**9, INT32[1])),
    )


def any_timestamps() -> st.SearchStrategy[Timestamp]:
    """Any timestamp a client can send, valid or not (zero, huge, negative, bad nanos)."""
    return st.one_of(
        st.builds(Timestamp, seconds=st.integers(MIN_SECONDS, MAX_SECONDS)),
        st.builds(Timestamp, seconds=st.sampled_from([0, -1, 1, MIN_SECONDS, MAX_SECONDS])),
        bad_timestamps(),
    )


def json_token(payload: Any) -> str:
    """Base64url of a JSON value: the shape of a token, with whatever content."""
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def bad_tokens() -> st.SearchStrategy[str]:
    """Page or resume tokens nobody issued: random text, random base64, base64 JSON of the
    wrong shape."""
    shapes: st.SearchStrategy[Any] = st.one_of(
        st.none(),
        st.integers(),
        st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=3),
    )
    return st.one_of(
        st.text(min_size=1, max_size=200).filter(lambda t: t.strip() != ""),
        st.binary(min_size=1, max_size=100).map(lambda b: base64.urlsafe_b64encode(b).decode()),
        shapes.map(json_token),
        st.integers(1000, 3000).map(  # nesting deeper than the JSON parser's recursion limit
            lambda depth: base64.urlsafe_b64encode(b"[" * depth + b"]" * depth).decode()
        ),
        st.text(alphabet=string.ascii_letters, min_size=5000, max_size=6000),
    )


def days(value: int) -> str:
    """A proleptic-Gregorian day number as "YYYY-MM-DD"."""
    return date.fromordinal(value).isoformat()


def _is_day(text: str) -> bool:
    try:
        return len(text) == 10 and date.fromisoformat(text).isoformat() == text
    except ValueError:
        return False


def bad_days() -> st.SearchStrategy[str]:
    """Strings that are not a "YYYY-MM-DD" day."""
    return st.one_of(
        st.text(max_size=20).filter(lambda t: t != ""),
        st.sampled_from(
            [
                "0000-01-01",
                "2026-02-30",
                "2026-13-01",
                "2026-00-10",
                "2026-1-1",
                "20261120",
                "2026-11-20T00:00:00",
                " 2026-11-20",
                "2026-11-20\n",
                "\uff12\uff10\uff12\uff16-11-20",
            ]  # fmt: skip
        ),
        st.tuples(st.integers(0, 9999), st.integers(13, 99), st.integers(1, 28)).map(
            lambda ymd: f"{ymd[0]:04d}-{ymd[1]:02d}-{ymd[2]:02d}"
        ),
    ).filter(lambda text: not _is_day(text))


def parses(message_type: Any, payload: bytes) -> bool:
    """True when `payload` decodes as `message_type` (unknown fields are fine)."""
    try:
        message_type.FromString(payload)
    except Exception:
        return False
    return True


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


def unknown_fields() -> st.SearchStrategy[bytes]:
    """Well-formed protobuf bytes made of fields a message does not declare (varint and
    length-delimited), as a newer client would send."""
    varint = st.tuples(st.integers(100, 2**29 - 1), st.integers(0, 2**64 - 1)).map(
        lambda fv: _varint(fv[0] << 3) + _varint(fv[1])
    )
    blob = st.tuples(st.integers(100, 2**29 - 1), st.binary(max_size=20)).map(
        lambda fb: _varint(fb[0] << 3 | 2) + _varint(len(fb[1])) + fb[1]
    )
    return st.lists(st.one_of(varint, blob), max_size=4).map(b"".join)


def undecodable(message_type: Any) -> st.SearchStrategy[bytes]:
    """Bytes that do not decode as `message_type`: corrupt tags, truncated lengths,
    invalid UTF-8 in a string field, random bytes."""
    fixed = [b"\x00", b"\x0f", b"\x08", b"\x0a\x05AB", b"\x0a\x02\xff\xfe", b"\x12\x80"]
    return st.one_of(st.sampled_from(fixed), st.binary(min_size=1, max_size=40)).filter(
        lambda payload: not parses(message_type, payload)
    )
