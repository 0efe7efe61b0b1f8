"""Daily weather in Seattle, 2012-2015 (NOAA data, public domain), bundled with the pip package vega_datasets."""
from __future__ import annotations

import pandas as pd


def load_weather() -> pd.DataFrame:
    """Seattle's daily weather as a DataFrame with a daily DatetimeIndex (2012-01-01 .. 2015-12-31).

    Columns: ``precipitation`` (mm), ``temp_max`` and ``temp_min`` (°C), ``wind`` (m/s) as floats,
    and ``weather`` (``"rain"``, ``"sun"``, ``"fog"``, ``"drizzle"`` or ``"snow"``). Read from the CSV
    file installed with vega_datasets (no network).
    """
    from vega_datasets import local_data

    frame = pd.read_csv(local_data.seattle_weather.filepath, parse_dates=["date"], index_col="date")
    frame = frame.asfreq("D")  # one row per day; the file has no gaps, so nothing is filled in
    for column in ("precipitation", "temp_max", "temp_min", "wind"):
        frame[column] = frame[column].astype("float64")
    return frame
