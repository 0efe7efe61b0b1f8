"""Daily stock prices (Quandl WIKI prices, public domain), bundled with the pip package bokeh-sampledata."""
from __future__ import annotations

import functools

import pandas as pd

COLUMNS = ["open", "high", "low", "close", "adj_close", "volume"]


@functools.lru_cache(maxsize=1)
def _all_stocks() -> pd.DataFrame:
    from bokeh_sampledata import package_path  # the CSV file itself; no network

    frame = pd.read_csv(package_path("stocks.csv.gz"), parse_dates=["Date"])
    frame.columns = [c.strip().lower().replace(" ", "_") for c in frame.columns]
    return frame


def symbols() -> list[str]:
    """The ticker symbols available offline (e.g. AAPL, GOOG, IBM, MSFT)."""
    return sorted(_all_stocks()["ticker"].unique())


def load_stock(symbol: str = "AAPL") -> pd.DataFrame:
    """One stock's daily prices: a DataFrame indexed by trading day (DatetimeIndex named ``date``).

    Columns ``open``, ``high``, ``low``, ``close`` (unadjusted, US$), ``adj_close`` (adjusted for
    splits and dividends) and ``volume`` (shares). Series run from 2000 (FB: 2012) to 2013-03-01.
    """
    frame = _all_stocks()
    wanted = str(symbol).strip().upper()
    rows = frame[frame["ticker"] == wanted]
    if rows.empty:
        raise ValueError(f"unknown stock symbol {symbol!r}; available offline: {', '.join(symbols())}")
    rows = rows.set_index("date").sort_index()[COLUMNS].copy()
    rows.index.name = "date"
    rows["volume"] = rows["volume"].astype("int64")
    return rows
