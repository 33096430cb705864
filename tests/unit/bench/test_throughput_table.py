"""The throughput table shows GetQuotes, unrecorded and recording every span, next to both
echo servers, and still renders results saved before some of them were measured
(`bench.run --from-json`)."""

from __future__ import annotations

from typing import Any

from bench.tables import throughput_table
from bench.throughput import _ratios


def side(rate: float) -> dict[str, Any]:
    return {
        "calls_per_second": rate,
        "latency_ms": {"p50": 20.0, "p99": 30.0},
        "server_cpu_share": 1.1,
        "client_cpu_share": 0.6,
        "errors": 0,
    }


def test_both_echo_servers_and_both_ratios_are_shown() -> None:
    result = {
        "gateway": side(2200.0),
        "echo": side(3400.0),
        "echo_uvloop": side(4000.0),
        "gateway_vs_echo": 2200 / 3400,
        "gateway_vs_echo_uvloop": 2200 / 4000,
    }
    table = throughput_table(result)
    assert [row[:3] for row in table.rows] == [
        ["GetQuotes (market-gateway, no span recorded)", "2,200", "-"],
        ["bare grpc.aio echo (asyncio loop)", "3,400", "-"],
        ["bare grpc.aio echo on uvloop", "4,000", "-"],
    ]
    assert "GetQuotes = 65% of echo (55% of echo on uvloop)" in table.title


def test_results_without_the_uvloop_echo_still_render() -> None:
    result = {"gateway": side(2335.0), "echo": side(4843.0), "gateway_vs_echo": 2335 / 4843}
    table = throughput_table(result)
    assert len(table.rows) == 2 and table.title.endswith("GetQuotes = 48% of echo")


def test_every_rounds_range_is_shown_beside_the_best_round() -> None:
    """The best round counts; without the range a reader could not tell a steady figure
    from one picked out of widely swinging rounds."""
    rounds = {"gateway": [side(2176.0), side(2486.0)], "echo": [side(3122.0), side(4307.0)]}
    result = {
        "gateway": side(2486.0),
        "echo": side(4307.0),
        "gateway_vs_echo": 2486 / 4307,
        "rounds": rounds,
    }
    table = throughput_table(result)
    assert [row[1:3] for row in table.rows] == [
        ["2,486", "2,176-2,486 (2)"],
        ["4,307", "3,122-4,307 (2)"],
    ]


def test_the_gateway_recording_every_span_is_shown_with_its_own_ratio() -> None:
    """The services run without an exporter (no span recorded); the recorded figure is
    what a deployment exporting every span would see, so it is never left out."""
    result = {
        "gateway": side(4100.0),
        "gateway_recorded": side(3400.0),
        "echo": side(6800.0),
        "echo_uvloop": side(7600.0),
        "gateway_vs_echo": 4100 / 6800,
        "gateway_vs_echo_uvloop": 4100 / 7600,
        "gateway_recorded_vs_echo": 3400 / 6800,
    }
    table = throughput_table(result)
    assert [row[:2] for row in table.rows][:2] == [
        ["GetQuotes (market-gateway, no span recorded)", "4,100"],
        ["GetQuotes, every span recorded (none exported)", "3,400"],
    ]
    assert table.title.endswith("; 50% with every span recorded")


def test_a_failed_restart_is_said_in_the_title() -> None:
    result = {
        "gateway": side(4100.0),
        "echo": side(6800.0),
        "gateway_vs_echo": 4100 / 6800,
        "gateway_recorded_error": "market-gateway not SERVING after 90 s",
    }
    table = throughput_table(result)
    assert table.title.endswith("with every span recorded: not measured (the restart failed)")
    assert [row[0] for row in table.rows] == [
        "GetQuotes (market-gateway, no span recorded)",
        "bare grpc.aio echo (asyncio loop)",
    ]


def test_each_gateway_figure_is_divided_by_each_echo_servers() -> None:
    best = {
        "gateway": side(4000.0),
        "gateway_recorded": side(3000.0),
        "echo": side(8000.0),
        "echo_uvloop": side(0.0),  # an echo that answered nothing gives 0.0, not an error
    }
    assert _ratios(best) == {
        "gateway_vs_echo": 0.5,
        "gateway_vs_echo_uvloop": 0.0,
        "gateway_recorded_vs_echo": 0.375,
        "gateway_recorded_vs_echo_uvloop": 0.0,
    }
    assert set(_ratios({"gateway": side(1.0), "echo": side(2.0)})) == {"gateway_vs_echo"}
