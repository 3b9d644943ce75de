"""The one calendar: dates, days and steps, and the moments at which things happen.

Every date in a scenario (events, dated changes, expectations, questions), every ``day`` an
expression reads and every step boundary goes through this module, so they follow one rule:

* **Day 0 is the start date**; a date D is day ``(D - start).days``. Something dated D happens at
  that day, whatever the step length.
* **Step s covers the days ((s-1)·dt, s·dt]**; the state recorded for step s is the state at the end
  of its last day, ``s·dt``. ``step_of(day)`` is the step whose interval holds the day.
* **Moments.** Inside a step the engine runs through its moments in calendar order: the decision
  clock's cycle points, dated events and changes, decisions that a strike opened, deliveries that
  arrive. The world is integrated from one moment to the next, so an event on day 8 lands on day 8
  at a weekly, a half-weekly and a daily step alike (tests/test_steplength.py).

The calendar range the model supports is :data:`FIRST_DATE` to :data:`LAST_DATE`: the catalog's
dated history starts in May 2018 (the US exit from the JCPOA), and beyond 2030 nothing in the
catalog describes the world.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

FIRST_DATE = dt.date(2018, 5, 1)  # the start of the catalog's timeline (the US leaves the JCPOA on 8 May)
LAST_DATE = dt.date(2030, 12, 31)  # forecasts from the timeline's end (May 2025) for about five years
# the dates a scenario may start on (validation): widen them here, and only here, when the catalog covers more years
FIRST_START_DATE = FIRST_DATE
LAST_START_DATE = LAST_DATE
EPS = 1e-6  # days: moments closer than this (well under a second) are one moment


def parse_date(value: object) -> dt.date:
    """A date from a YAML value (a date, or a string YYYY-MM-DD); ValueError otherwise."""
    if isinstance(value, dt.datetime):
        raise ValueError("expected a date YYYY-MM-DD, not a date and time")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value.strip())
    raise ValueError(f"expected a date YYYY-MM-DD, found {type(value).__name__}")


def in_range(date: dt.date) -> bool:
    """Whether a date lies in the calendar the model supports."""
    return FIRST_DATE <= date <= LAST_DATE


@dataclass(frozen=True)
class Calendar:
    """Dates, days and steps of one run.

    Args:
        step_days: the length of a step in days (the recording and integration grid).
        steps: the horizon in steps.
        start: the calendar date of day 0, or None for an undated run (days only).
    """

    step_days: float
    steps: int
    start: dt.date | None = None

    @property
    def end_day(self) -> float:
        """The last day of the horizon (the end of the last step)."""
        return self.steps * self.step_days

    def day_of(self, date: dt.date | str) -> float:
        """The day (since the start) of a date."""
        if self.start is None:
            raise ValueError("a dated run needs a start date")
        return float((parse_date(date) - self.start).days)

    def date_of(self, day: float) -> dt.date | None:
        """The calendar date on which a day falls (None for an undated run)."""
        if self.start is None:
            return None
        return self.start + dt.timedelta(days=math.floor(day + EPS))

    def step_of(self, day: float) -> int:
        """The step whose interval ((s-1)·dt, s·dt] holds the day (day 0 belongs to step 0, the start)."""
        if day <= EPS:
            return 0
        return max(1, math.ceil((day - EPS) / self.step_days))

    def bounds(self, step: int) -> tuple[float, float]:
        """The days (d0, d1] a step covers."""
        return (step - 1) * self.step_days, step * self.step_days

    def step_ends(self) -> np.ndarray:
        """The day at the end of each recorded step, 0 (the start) included: shape (steps + 1,)."""
        return np.arange(self.steps + 1, dtype=float) * self.step_days


def cycle_points(d0: float, d1: float, rate: float, phase: float) -> list[float]:
    """The cycle points ``(n + phase) / rate`` of a decision clock that fall in (d0, d1].

    A cycle point within :data:`EPS` of a step's end belongs to that step.
    """
    if rate <= 0:
        return []
    cycle = 1.0 / rate
    first = math.floor((d0 + EPS) / cycle - phase) + 1
    out = []
    n = first
    while (n + phase) * cycle <= d1 + EPS:
        t = (n + phase) * cycle
        if t > d0 + EPS:
            out.append(float(t))
        n += 1
    return out


def cycle_of(day: float, rate: float, phase: float) -> int:
    """The index n of the decision cycle that a day falls in: cycle n ends at its point ``(n + phase)/rate``.

    An event on a unit stands in for that unit's decision of the cycle it falls in, so that a
    unit moves once per cycle whatever the step length.
    """
    if rate <= 0:
        return -1
    return math.ceil((day - EPS) * rate - phase)
