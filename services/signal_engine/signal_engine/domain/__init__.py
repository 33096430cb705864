"""The engine's pure core: value objects, indicators, consensus, skip rule. No I/O."""

from __future__ import annotations

from signal_engine.domain.calibration import Calibration
from signal_engine.domain.consensus import Consensus, form_consensus
from signal_engine.domain.errors import (
    CalibrationUnavailable,
    DomainError,
    GatewayError,
    GatewayRejected,
    GatewayTimeout,
    GatewayUnavailable,
    InsufficientHistory,
    InvalidSymbol,
    OutboxError,
    OutboxLocked,
    SentimentUnsupported,
    SinkError,
    SinkRejected,
    SinkUnavailable,
    UnknownSymbol,
)
from signal_engine.domain.incremental import IndicatorState
from signal_engine.domain.indicators import IndicatorValues, indicator_values
from signal_engine.domain.model import (
    Action,
    Bar,
    BarSeries,
    CacheStatus,
    Quote,
    Regime,
    SentimentVerdict,
    Signal,
    SourceContribution,
    SourceOpinion,
    SymbolFailure,
    Timeframe,
)
from signal_engine.domain.opinions import (
    MIN_BARS,
    detect_regime,
    sentiment_opinion,
    technical_opinions,
)
from signal_engine.domain.ownership import rendezvous_owner
from signal_engine.domain.polling import QuoteVolatility, poll_interval
from signal_engine.domain.signals import (
    SignalContext,
    TechnicalView,
    build_signal,
    is_repeat,
    price_levels,
    should_skip,
    technical_view,
)
from signal_engine.domain.symbols import (
    MAX_SYMBOL_LENGTH,
    canonical_symbol,
    canonical_symbols,
    is_crypto,
)
from signal_engine.domain.tunables import (
    SOURCES,
    TECHNICAL_SOURCES,
    Tunables,
    sentiment_source,
    tunables_problems,
)

__all__ = [
    "MAX_SYMBOL_LENGTH",
    "MIN_BARS",
    "SOURCES",
    "TECHNICAL_SOURCES",
    "Action",
    "Bar",
    "BarSeries",
    "CacheStatus",
    "Calibration",
    "CalibrationUnavailable",
    "Consensus",
    "DomainError",
    "GatewayError",
    "GatewayRejected",
    "GatewayTimeout",
    "GatewayUnavailable",
    "IndicatorState",
    "IndicatorValues",
    "InsufficientHistory",
    "InvalidSymbol",
    "OutboxError",
    "OutboxLocked",
    "Quote",
    "QuoteVolatility",
    "Regime",
    "SentimentUnsupported",
    "SentimentVerdict",
    "Signal",
    "SignalContext",
    "SinkError",
    "SinkRejected",
    "SinkUnavailable",
    "SourceContribution",
    "SourceOpinion",
    "SymbolFailure",
    "TechnicalView",
    "Timeframe",
    "Tunables",
    "UnknownSymbol",
    "build_signal",
    "canonical_symbol",
    "canonical_symbols",
    "detect_regime",
    "form_consensus",
    "indicator_values",
    "is_crypto",
    "is_repeat",
    "poll_interval",
    "price_levels",
    "rendezvous_owner",
    "sentiment_opinion",
    "sentiment_source",
    "should_skip",
    "technical_opinions",
    "technical_view",
    "tunables_problems",
]
