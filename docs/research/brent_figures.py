"""Measure the oil figures of shared/history.md on the stored daily Brent series.

Run from the repository root: ``python docs/research/brent_figures.py``. It prints the Markdown table that
docs/history.md carries ("Oil figures checked against the stored series"). Definitions:

- *close before*: the last close before the trigger date (the trigger is the event, not the price move);
- *peak close* (or *trough* for a fall): the highest (lowest) close from the trigger date to the end of the window;
- *days to peak*: calendar days from the close before to the peak close (trading days in brackets);
- *half gone*: calendar days from the peak until the first close that gives back half of the move;
- *back*: calendar days from the peak until the first close at or beyond the close before;
- *two weeks later*: the last close on or before the trigger date plus 14 calendar days.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

SERIES = Path(__file__).resolve().parents[2] / "data" / "brent_daily_2018_2025.csv"


def load(path: Path = SERIES) -> list[tuple[dt.date, float]]:
    """Read the stored series as (date, close) pairs in date order."""
    with path.open() as handle:
        lines = [line for line in handle if not line.startswith("#")]
    return [(dt.date.fromisoformat(row["date"]), float(row["close"])) for row in csv.DictReader(lines)]


@dataclass(frozen=True)
class Move:
    """A price move around one trigger."""

    label: str
    claimed: str
    trigger: dt.date
    before_date: dt.date
    before: float
    first_date: dt.date
    first: float
    peak_date: dt.date
    peak: float
    trading_days_to_peak: int
    half_gone_date: dt.date | None
    back_date: dt.date | None
    later_date: dt.date
    later: float

    @property
    def days_to_peak(self) -> int:
        return (self.peak_date - self.before_date).days

    @property
    def half_gone_days(self) -> int | None:
        return None if self.half_gone_date is None else (self.half_gone_date - self.peak_date).days

    def pct(self, value: float) -> float:
        return 100.0 * (value / self.before - 1.0)


def measure(
    series: list[tuple[dt.date, float]], label: str, claimed: str, trigger: str, window: int, rise: bool = True
) -> Move:
    """Measure the move after ``trigger`` over ``window`` calendar days (a rise, or a fall if ``rise`` is False)."""
    start = dt.date.fromisoformat(trigger)
    end = start + dt.timedelta(days=window)
    before_idx = max(i for i, (d, _) in enumerate(series) if d < start)
    after = [(i, d, p) for i, (d, p) in enumerate(series) if start <= d <= end]
    pick = max if rise else min
    peak_idx, peak_date, peak = pick(after, key=lambda row: row[2])
    before = series[before_idx][1]
    half = before + (peak - before) / 2.0
    half_gone = next(
        (d for d, p in series[peak_idx + 1 :] if (p <= half if rise else p >= half)),
        None,
    )
    back = next((d for d, p in series[peak_idx + 1 :] if (p <= before if rise else p >= before)), None)
    later_date, later = [(d, p) for d, p in series if d <= start + dt.timedelta(days=14)][-1]
    first_date, first = series[before_idx + 1]
    return Move(
        label=label,
        claimed=claimed,
        trigger=start,
        before_date=series[before_idx][0],
        before=before,
        first_date=first_date,
        first=first,
        peak_date=peak_date,
        peak=peak,
        trading_days_to_peak=peak_idx - before_idx,
        half_gone_date=half_gone,
        back_date=back,
        later_date=later_date,
        later=later,
    )


MOVES: list[tuple[str, str, str, int, bool]] = [
    (
        "Abqaiq and Khurais (Sat 14 Sep 2019)",
        "+15% on 16 Sep; most gone within about two weeks",
        "2019-09-14",
        14,
        True,
    ),
    ("Soleimani killed (3 Jan 2020)", "about +4% (to about $69-70); back within about a week", "2020-01-03", 14, True),
    ("OPEC+ talks collapse (6 Mar 2020)", "about $50 to about $25 by late March", "2020-03-06", 25, False),
    (
        "Invasion of Ukraine (24 Feb 2022)",
        "peak about $128 (8 Mar); below $100 within about a week",
        "2022-02-24",
        30,
        True,
    ),
    ("Hamas attack (Sat 7 Oct 2023)", "about +4% on 9 Oct; fell back within weeks", "2023-10-07", 14, True),
    ("Iran's barrage (1 Oct 2024)", "about $73 to about $81; about $76 before 26 Oct", "2024-10-01", 14, True),
    ("Israel's strike (Sat 26 Oct 2024)", "about -6% (to about $71) on 28 Oct", "2024-10-26", 7, False),
    ("US sanctions on Russian oil (10 Jan 2025)", "mid-January 2025 about $82", "2025-01-10", 14, True),
]


def fmt_pct(value: float) -> str:
    return f"{value:+.1f}%"


def table(series: list[tuple[dt.date, float]]) -> str:
    """Return the Markdown table of measured moves."""
    head = (
        "| Episode | Claimed (history.md) | Close before | First close after | Peak (trough) close | Days to peak "
        "| Half the move gone | Back to the close before | Two weeks after trigger |\n|---|---|---|---|---|---|---|---|---|\n"
    )
    rows = []
    for label, claimed, trigger, window, rise in MOVES:
        m = measure(series, label, claimed, trigger, window, rise)
        half = "not within the series" if m.half_gone_date is None else f"{m.half_gone_days} days ({m.half_gone_date})"
        back = (
            "not within the series"
            if m.back_date is None
            else f"{(m.back_date - m.peak_date).days} days ({m.back_date})"
        )
        rows.append(
            f"| {label} | {claimed} | {m.before:.2f} ({m.before_date}) | {m.first:.2f} ({m.first_date}, "
            f"{fmt_pct(m.pct(m.first))}) | {m.peak:.2f} ({m.peak_date}, {fmt_pct(m.pct(m.peak))}) "
            f"| {m.days_to_peak} ({m.trading_days_to_peak} trading) | {half} | {back} | {m.later:.2f} ({m.later_date}) |"
        )
    return head + "\n".join(rows) + "\n"


def levels(series: list[tuple[dt.date, float]]) -> str:
    """Return the level checks (year-end, ranges, the 2024 review) as Markdown lines."""
    by_date = dict(series)

    def span(first: str, last: str) -> list[tuple[dt.date, float]]:
        a, b = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
        return [(d, p) for d, p in series if a <= d <= b]

    out = []
    y2024 = span("2024-01-01", "2024-12-31")
    closes = [p for _, p in y2024]
    hi = max(y2024, key=lambda r: r[1])
    lo = min(y2024, key=lambda r: r[1])
    out.append(
        f"- 2024: mean close {sum(closes) / len(closes):.2f}, range {lo[1]:.2f} ({lo[0]}) to {hi[1]:.2f} ({hi[0]})"
    )
    out.append(f"- End of 2024: {by_date[dt.date(2024, 12, 31)]:.2f} (2024-12-31)")
    jan = span("2025-01-13", "2025-01-17")
    out.append(f"- 13-17 Jan 2025: closes {min(p for _, p in jan):.2f} to {max(p for _, p in jan):.2f}")
    apr = span("2025-04-01", "2025-04-30")
    apr_after = span("2025-04-04", "2025-04-30")
    out.append(
        f"- April 2025: closes {min(p for _, p in apr):.2f} to {max(p for _, p in apr):.2f} over the month; "
        f"{min(p for _, p in apr_after):.2f} to {max(p for _, p in apr_after):.2f} from 4 April (after the tariff shock)"
    )
    may = span("2025-05-01", "2025-05-31")
    out.append(f"- May 2025: closes {min(p for _, p in may):.2f} to {max(p for _, p in may):.2f}")
    after_peak = span("2022-03-09", "2022-04-30")
    below = next((d, p) for d, p in after_peak if p < 100.0)
    low_mar = min(span("2022-03-09", "2022-03-31"), key=lambda r: r[1])
    out.append(
        f"- After the 8 Mar 2022 peak: lowest March close {low_mar[1]:.2f} ({low_mar[0]}); "
        f"first close below $100 {below[1]:.2f} ({below[0]})"
    )
    mar = span("2020-03-16", "2020-03-31")
    out.append("- Late March 2020: closes " + ", ".join(f"{p:.2f} ({d})" for d, p in mar if d.day in (16, 20, 27, 31)))
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    data = load()
    print(table(data))
    print(levels(data))
