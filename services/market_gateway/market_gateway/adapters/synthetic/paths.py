"""One UTC day of one symbol's synthetic price path, on a fixed 10-second grid.

A day depends only on (global seed, symbol, day index, trading mask, volatility scale), never
on which queries came before, so any instant always gets the same price. The path is stored
relative to the day's opening log price; the market chains days into absolute prices.

Log prices follow a driftless geometric Brownian motion whose sigma switches between
calm / normal / volatile regimes (a Markov chain on 30-minute blocks). Outside the trading
mask (stocks out of session) increments are zero, so the price is frozen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from market_gateway.adapters.synthetic.profiles import SymbolProfile, stable_hash
from market_gateway.domain import AssetClass

STEP_SECONDS = 10
DAY_SECONDS = 86_400
STEPS_PER_DAY = DAY_SECONDS // STEP_SECONDS
STEPS_PER_MINUTE = 60 // STEP_SECONDS
_BLOCK_STEPS = 180  # 30 minutes per regime block
_REGIME_SIGMA = np.array([0.6, 1.0, 1.9])
_REGIME_START = np.array([0.35, 0.50, 0.15]).cumsum()
_REGIME_STAY = (0.96, 0.94, 0.85)
_STEPS_PER_YEAR = {
    AssetClass.STOCK: 252 * 390 * STEPS_PER_MINUTE,
    AssetClass.CRYPTO: 365 * STEPS_PER_DAY,
}
_SESSION_MINUTES = {AssetClass.STOCK: 390, AssetClass.CRYPTO: 1440}
_VOLUME_NOISE = 0.45
_DAY_OFFSET = 2**31  # seed sequences need non-negative entropy

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class DayPath:
    """Grid point i is the instant day_start + i * STEP_SECONDS (i = 0..STEPS_PER_DAY)."""

    log_rel: FloatArray  # log price minus the day's opening log price, STEPS_PER_DAY + 1
    cum_volume: FloatArray  # volume traded since the day's start, STEPS_PER_DAY + 1
    open_steps: BoolArray  # step i (grid i -> i + 1) is in a trading session, STEPS_PER_DAY

    @property
    def total(self) -> float:
        return float(self.log_rel[-1])


def generate_day(
    profile: SymbolProfile,
    seed: int,
    day_index: int,
    open_steps: BoolArray,
    volatility_scale: float,
) -> DayPath:
    """Draw one day; identical inputs always give an identical path."""
    key = [seed, stable_hash(profile.symbol.canonical), day_index + _DAY_OFFSET]
    rng = np.random.default_rng(key)
    regimes = _regime_path(rng.random(STEPS_PER_DAY // _BLOCK_STEPS + 1))
    regime_sigma = np.repeat(_REGIME_SIGMA[regimes], _BLOCK_STEPS)[:STEPS_PER_DAY]
    asset = profile.symbol.asset_class
    step_sigma = (
        profile.annual_volatility * volatility_scale / math.sqrt(_STEPS_PER_YEAR[asset])
    ) * regime_sigma
    shocks = rng.standard_normal(STEPS_PER_DAY, dtype=np.float32).astype(np.float64)
    increments = (shocks * step_sigma - 0.5 * step_sigma**2) * open_steps
    log_rel = np.concatenate(([0.0], np.cumsum(increments)))
    minute_volume = _minute_volume(profile, rng, open_steps, regime_sigma)
    step_volume = np.repeat(minute_volume / STEPS_PER_MINUTE, STEPS_PER_MINUTE)
    cum_volume = np.concatenate(([0.0], np.cumsum(step_volume)))
    return DayPath(log_rel=log_rel, cum_volume=cum_volume, open_steps=open_steps.copy())


def _regime_path(draws: FloatArray) -> npt.NDArray[np.intp]:
    states = np.empty(len(draws), dtype=np.intp)
    state = int(np.searchsorted(_REGIME_START, draws[0], side="right"))
    for block, draw in enumerate(draws):
        if block and draw > _REGIME_STAY[state]:
            # leave the state: calm and volatile fall back to normal; normal goes either way
            state = 1 if state != 1 else (0 if draw < (1 + _REGIME_STAY[1]) / 2 else 2)
        states[block] = state
    return states


def _minute_volume(
    profile: SymbolProfile,
    rng: np.random.Generator,
    open_steps: BoolArray,
    regime_sigma: FloatArray,
) -> FloatArray:
    open_minutes = open_steps.reshape(-1, STEPS_PER_MINUTE).all(axis=1)
    asset = profile.symbol.asset_class
    if asset is AssetClass.STOCK:
        # U-shaped intraday profile: busy at the open and the close
        rank = np.cumsum(open_minutes) - 1
        position = rank / max(int(open_minutes.sum()) - 1, 1)
        shape = (0.7 + 1.8 * (2.0 * position - 1.0) ** 2) / 1.3
    else:
        hours = np.arange(1440) / 60.0
        shape = 1.0 + 0.25 * np.cos(2.0 * np.pi * (hours - 15.0) / 24.0)
    noise = np.exp(rng.standard_normal(1440) * _VOLUME_NOISE - _VOLUME_NOISE**2 / 2)
    regime = regime_sigma[::STEPS_PER_MINUTE] ** 0.7
    per_minute = profile.daily_volume / _SESSION_MINUTES[asset]
    volume = per_minute * shape * noise * regime * open_minutes
    return round_volumes(volume, asset)


def round_prices(prices: FloatArray, asset_class: AssetClass) -> FloatArray:
    """Round to a realistic tick; monotonic, so rounded quotes stay within rounded bars."""
    if asset_class is AssetClass.STOCK:
        return np.round(prices, 2)
    return np.where(
        prices >= 100.0,
        np.round(prices, 2),
        np.where(prices >= 1.0, np.round(prices, 4), np.round(prices, 8)),
    )


def round_volumes(volumes: FloatArray, asset_class: AssetClass) -> FloatArray:
    """Whole shares for stocks, 1e-4 coins for crypto."""
    return np.rint(volumes) if asset_class is AssetClass.STOCK else np.round(volumes, 4)


def round_price(price: float, asset_class: AssetClass) -> float:
    return float(round_prices(np.array([price]), asset_class)[0])
