"""The stored daily Brent series (data/brent_daily_2018_2025.csv): shape, order, range and known closes."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data"
SERIES = DATA / "brent_daily_2018_2025.csv"
OLDER = DATA / "brent_daily_2024_2025.csv"


def read(path: Path, column: str) -> list[tuple[dt.date, float]]:
    with path.open() as handle:
        lines = [line for line in handle if not line.startswith("#")]
    return [(dt.date.fromisoformat(row["date"]), float(row[column])) for row in csv.DictReader(lines)]


@pytest.fixture(scope="module")
def series() -> list[tuple[dt.date, float]]:
    return read(SERIES, "close")


def test_header_and_shape() -> None:
    with SERIES.open() as handle:
        lines = [line.rstrip("\n") for line in handle if not line.startswith("#")]
    assert lines[0] == "date,close"
    assert len(lines) - 1 == 1877
    assert all(line.count(",") == 1 for line in lines)


def test_dates_strictly_increase_on_weekdays(series: list[tuple[dt.date, float]]) -> None:
    dates = [d for d, _ in series]
    assert all(a < b for a, b in zip(dates, dates[1:]))
    assert all(d.weekday() < 5 for d in dates)
    # no gap longer than Christmas 2018 (Fri 21 Dec to Thu 27 Dec)
    assert max((b - a).days for a, b in zip(dates, dates[1:])) <= 6


def test_range_stops_at_end_of_may_2025(series: list[tuple[dt.date, float]]) -> None:
    assert series[0][0] == dt.date(2018, 1, 2)
    assert series[-1][0] == dt.date(2025, 5, 30)
    assert all(dt.date(2018, 1, 1) <= d <= dt.date(2025, 5, 31) for d, _ in series)


def test_prices_plausible(series: list[tuple[dt.date, float]]) -> None:
    prices = [p for _, p in series]
    assert min(prices) == pytest.approx(9.12)  # 21 April 2020, the pandemic low
    assert max(prices) == pytest.approx(133.18)  # 8 March 2022
    assert all(5.0 < p < 150.0 for p in prices)


@pytest.mark.parametrize(
    ("day", "close"),
    [
        ("2019-09-13", 61.25),  # Friday before Abqaiq
        ("2019-09-16", 68.42),  # first trading day after Abqaiq (+11.7%)
        ("2020-01-02", 67.05),  # day before Soleimani's killing
        ("2020-01-06", 70.25),  # the post-Soleimani high
        ("2020-03-06", 45.60),  # OPEC+ talks collapse
        ("2022-03-08", 133.18),  # the 2022 spot peak
        ("2023-10-09", 91.37),  # first trading day after 7 October
        ("2024-10-07", 81.74),  # high after Iran's 1 October barrage
        ("2024-10-28", 71.87),  # first trading day after Israel's 26 October strike
        ("2024-12-31", 74.58),
        ("2025-01-15", 83.48),
        ("2025-05-30", 64.32),
    ],
)
def test_known_closes(series: list[tuple[dt.date, float]], day: str, close: float) -> None:
    assert dict(series)[dt.date.fromisoformat(day)] == pytest.approx(close)


def test_agrees_with_the_older_extract(series: list[tuple[dt.date, float]]) -> None:
    older = read(OLDER, "brent")
    full = dict(series)
    assert older, "the 2024-2025 extract is empty"
    assert all(full.get(d) == pytest.approx(p) for d, p in older)
    span = [d for d in full if older[0][0] <= d <= older[-1][0]]
    assert len(span) == len(older)
