"""Call counters: what the benchmark and the fault tests read back.

One HTTP request is one upstream call, however many symbols it carries (a snapshot of six
tickers counts once; `symbols` adds up what the calls asked for). Each call is counted by
provider, endpoint (route template, or `query:<FUNCTION>` for Alpha Vantage) and HTTP
status, and by outcome: ok, client_error, auth_error, rate_limited (429, or Alpha Vantage's
HTTP-200 "Note"/"Information"), fault (injected error, HTML, malformed or truncated body)
and outage. WebSocket sessions are counted apart.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

OUTCOMES = ("ok", "client_error", "auth_error", "rate_limited", "fault", "outage")


@dataclass
class _Tally:
    calls: int = 0
    symbols: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    by_outcome: Counter[str] = field(default_factory=Counter)

    def add(self, status: int, outcome: str, symbols: int) -> None:
        self.calls += 1
        self.symbols += symbols
        self.by_status[str(status)] += 1
        self.by_outcome[outcome] += 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "symbols": self.symbols,
            "by_status": dict(sorted(self.by_status.items())),
            "by_outcome": dict(sorted(self.by_outcome.items())),
        }


@dataclass
class _StreamTally:
    connections: int = 0
    open: int = 0
    frames: int = 0  # data frames sent (control frames not included)
    events: int = 0
    dropped: int = 0  # connections the simulator dropped on purpose (faults, outages)
    auth_failed: int = 0
    refused: int = 0  # over the connection or symbol limit


class Counters:
    def __init__(self, since: datetime) -> None:
        self._since = since
        self._total = _Tally()
        self._providers: defaultdict[str, _Tally] = defaultdict(_Tally)
        self._endpoints: defaultdict[tuple[str, str], _Tally] = defaultdict(_Tally)
        self._streams: defaultdict[str, _StreamTally] = defaultdict(_StreamTally)

    def record(
        self, provider: str, endpoint: str, status: int, outcome: str, symbols: int = 0
    ) -> None:
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}")
        self._total.add(status, outcome, symbols)
        self._providers[provider].add(status, outcome, symbols)
        self._endpoints[(provider, endpoint)].add(status, outcome, symbols)

    def stream(self, provider: str) -> _StreamTally:
        """The mutable WebSocket tally of one provider (look it up anew after a reset)."""
        return self._streams[provider]

    def reset(self, since: datetime) -> None:
        """Start counting afresh; connections still open stay counted as open."""
        self._since = since
        self._total = _Tally()
        self._providers.clear()
        self._endpoints.clear()
        kept = {name: _StreamTally(open=tally.open) for name, tally in self._streams.items()}
        self._streams = defaultdict(_StreamTally, kept)

    def snapshot(self) -> dict[str, Any]:
        providers: dict[str, Any] = {}
        for name, tally in sorted(self._providers.items()):
            endpoints = {
                endpoint: self._endpoints[(owner, endpoint)].to_dict()
                for owner, endpoint in sorted(self._endpoints)
                if owner == name
            }
            providers[name] = {**tally.to_dict(), "endpoints": endpoints}
        return {
            "since": self._since.isoformat(),
            "total": self._total.to_dict(),
            "providers": providers,
            "websocket": {
                name: vars(tally).copy() for name, tally in sorted(self._streams.items())
            },
        }
