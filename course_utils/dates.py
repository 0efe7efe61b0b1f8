"""Chapter 10's data, generated: one calendar date written in many human formats, to be normalised to ISO 8601.

    "Sunday, March 7, 2021", "7th of March 2021", "07.03.2021", "03/07/21", "20210307"  ->  "2021-03-07"

The conventions are fixed, so every source string has exactly one right answer: dotted dates are day first
(European), slashed dates month first (American), and a two-digit year ``yy`` means 19yy for yy >= 50 and
20yy otherwise (dates run from 1950 to 2049). Month and weekday names are English and come from tables here,
not from ``strftime``, which follows the machine's locale.

Splits are by **date**: a date of the test split never occurs in training, in any format, so exact-match
accuracy on it measures normalising unseen dates, not recalling seen ones.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
from dateutil import parser as date_parser

__all__ = ["FORMATS", "FIRST_DAY", "LAST_DAY", "format_date", "split_dates", "date_pairs", "parse_with_dateutil"]

FIRST_DAY, LAST_DAY = dt.date(1950, 1, 1), dt.date(2049, 12, 31)
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


# name -> how it writes a date; every format determines the date uniquely under the module's conventions
FORMATS = {
    "iso":           lambda d: f"{d.year:04d}-{d.month:02d}-{d.day:02d}",
    "compact":       lambda d: f"{d.year:04d}{d.month:02d}{d.day:02d}",
    "dotted":        lambda d: f"{d.day:02d}.{d.month:02d}.{d.year:04d}",
    "dotted_short":  lambda d: f"{d.day}.{d.month}.{d.year % 100:02d}",
    "us_slash":      lambda d: f"{d.month:02d}/{d.day:02d}/{d.year:04d}",
    "us_slash_short": lambda d: f"{d.month}/{d.day}/{d.year % 100:02d}",
    "day_month":     lambda d: f"{d.day} {MONTHS[d.month - 1]} {d.year}",
    "month_day":     lambda d: f"{MONTHS[d.month - 1]} {d.day}, {d.year}",
    "abbreviated":   lambda d: f"{MONTHS[d.month - 1][:3]} {d.day} {d.year}",
    "short_year":    lambda d: f"{d.day} {MONTHS[d.month - 1][:3].lower()} {d.year % 100:02d}",
    "ordinal":       lambda d: f"{_ordinal(d.day)} of {MONTHS[d.month - 1]} {d.year}",
    "weekday":       lambda d: f"{WEEKDAYS[d.weekday()]}, {MONTHS[d.month - 1]} {d.day}, {d.year}",
    "upper":         lambda d: f"{d.day} {MONTHS[d.month - 1].upper()} {d.year}",
}


def format_date(date: dt.date, fmt: str) -> str:
    """``date`` written in the format named ``fmt`` (a key of :data:`FORMATS`)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown date format {fmt!r}; use one of {', '.join(FORMATS)}")
    if not FIRST_DAY <= date <= LAST_DAY:
        raise ValueError(f"{date} is outside {FIRST_DAY}..{LAST_DAY}: two-digit years would be ambiguous")
    return FORMATS[fmt](date)


def split_dates(fractions=(0.8, 0.1, 0.1), seed: int = 42) -> list[list[dt.date]]:
    """Every day from FIRST_DAY to LAST_DAY, shuffled and cut into disjoint lists in the given proportions."""
    fractions = np.asarray(fractions, dtype=float)
    if fractions.ndim != 1 or np.any(fractions <= 0) or not np.isclose(fractions.sum(), 1.0):
        raise ValueError(f"fractions must be positive and sum to 1, got {tuple(fractions)}")
    days = np.array([FIRST_DAY + dt.timedelta(days=i) for i in range((LAST_DAY - FIRST_DAY).days + 1)])
    np.random.default_rng(seed).shuffle(days)
    cuts = np.round(np.cumsum(fractions)[:-1] * len(days)).astype(int)
    return [list(part) for part in np.split(days, cuts)]


def date_pairs(dates, n: int | None = None, seed: int = 42) -> tuple[list[str], list[str], list[str]]:
    """``(sources, targets, format_names)``: ``n`` examples (default one per date) drawn from ``dates``, each
    written in a format chosen uniformly at random, with its ISO form as the target."""
    rng = np.random.default_rng(seed)
    dates = list(dates)
    if not dates:
        raise ValueError("no dates to draw from")
    n = len(dates) if n is None else int(n)
    picked = [dates[i] for i in (rng.permutation(len(dates))[:n] if n <= len(dates)
                                 else rng.integers(0, len(dates), size=n))]
    names = list(FORMATS)
    formats = [names[i] for i in rng.integers(0, len(names), size=n)]
    sources = [format_date(d, f) for d, f in zip(picked, formats)]
    return sources, [format_date(d, "iso") for d in picked], formats


class _CoursePivot(date_parser.parserinfo):
    """dateutil's rules with this dataset's two-digit years (yy >= 50 -> 19yy), not its own pivot, which moves
    with today's date."""

    def convertyear(self, year, century_specified=False):
        if year < 100 and not century_specified:
            year += 1900 if year >= 50 else 2000
        return year


def parse_with_dateutil(text: str, dayfirst: bool) -> str:
    """The baseline: ``dateutil``'s general-purpose parser, told this dataset's two-digit-year rule; ``dayfirst``
    decides ``01.02.2003`` and ``01/02/2003`` alike. ``""`` when it cannot parse the text."""
    try:
        return date_parser.parse(text, dayfirst=dayfirst, parserinfo=_CoursePivot()).date().isoformat()
    except (ValueError, OverflowError):
        return ""
