"""The engine's pure core: value objects, indicators, consensus, skip rule. No I/O."""

from __future__ import annotations

from signal_engine.domain.consensus import (
    MIN_CLOSES,
    Consensus,
    detect_regime,
    form_consensus,
    technical_opinions,
)
from signal_engine.domain.errors import (
    DomainError,
    GatewayError,
    GatewayRejected,
    GatewayTimeout,
    GatewayUnavailable,
    InsufficientHistory,
    InvalidSymbol,
    SinkError,
    SinkRejected,
    SinkUnavailable,
    UnknownSymbol,
)
from signal_engine.domain.model import (
    Action,
    Bar,
    BarSeries,
    CacheStatus,
    Quote,
    Regime,
    Signal,
    SourceContribution,
    SourceOpinion,
    SymbolFailure,
    Timeframe,
)
from signal_engine.domain.signals import (
    SignalContext,
    build_signal,
    price_levels,
    should_skip,
    update_ewma_variance,
)
from signal_engine.domain.symbols import MAX_SYMBOL_LENGTH, canonical_symbol, canonical_symbols
from signal_engine.domain.tunables import SOURCES, Tunables, tunables_problems

__all__ = [
    "MAX_SYMBOL_LENGTH",
    "MIN_CLOSES",
    "SOURCES",
    "Action",
    "Bar",
    "BarSeries",
    "CacheStatus",
    "Consensus",
    "DomainError",
    "GatewayError",
    "GatewayRejected",
    "GatewayTimeout",
    "GatewayUnavailable",
    "InsufficientHistory",
    "InvalidSymbol",
    "Quote",
    "Regime",
    "Signal",
    "SignalContext",
    "SinkError",
    "SinkRejected",
    "SinkUnavailable",
    "SourceContribution",
    "SourceOpinion",
    "SymbolFailure",
    "Timeframe",
    "Tunables",
    "UnknownSymbol",
    "build_signal",
    "canonical_symbol",
    "canonical_symbols",
    "detect_regime",
    "form_consensus",
    "price_levels",
    "should_skip",
    "technical_opinions",
    "tunables_problems",
    "update_ewma_variance",
]
