"""Expectations: bands a scenario's ensemble must fall in (history as tests).

A scenario may carry ``expect:``, a list of statements about its outcomes::

    expect:
      - "P(max_support_tier >= 4) <= 0.10"           # a probability over replicates
      - "P(us_war_on_iran) <= 0.10"                  # a binary outcome: P(outcome = 1)
      - "median(peak_brent) in [76, 90]"             # a statistic of an outcome
      - {expect: "median(brent @ 2024-12-31) in [66, 84]", source: "EIA daily close 74.58"}

Statistics: mean, median, p10, p25, p75, p90, min, max, and P(...). ``VAR @ DATE`` is the value
of a world variable at the step containing that date (needs ``start_date``). ``entente check``
runs the scenarios and reports every figure against its band. Nothing here is evaluated by
Python's ``eval``: statements are parsed by a regular expression into a small record.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

STATS = ("mean", "median", "p10", "p25", "p75", "p90", "min", "max")
OPS = ("<=", ">=", "<", ">", "==")
_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_ARG = r"(?P<name>[A-Za-z_][A-Za-z0-9_.]*)(?:\s*@\s*(?P<date>\d{4}-\d{2}-\d{2}))?"
_COND = rf"{_ARG}(?:\s*(?P<cop><=|>=|<|>|==)\s*(?P<cval>{_NUM}))?"
_BAND = rf"(?:(?P<op><=|>=|<|>|==)\s*(?P<val>{_NUM})|in\s*\[\s*(?P<lo>{_NUM})\s*,\s*(?P<hi>{_NUM})\s*\])"
_RE = re.compile(rf"^\s*(?P<stat>P|{'|'.join(STATS)})\s*\(\s*{_COND}\s*\)\s*{_BAND}\s*$")


@dataclass(frozen=True)
class Expectation:
    """One parsed statement: ``stat(name [@ date] [cop cval]) op val`` or ``... in [lo, hi]``."""

    text: str
    stat: str
    name: str
    date: str | None = None
    cond_op: str | None = None
    cond_value: float | None = None
    op: str | None = None
    value: float | None = None
    lo: float | None = None
    hi: float | None = None
    source: str = ""

    @property
    def column(self) -> str:
        """The outcome column the statement reads (a dated variable gets its own hidden outcome)."""
        return f"{self.name}@{self.date}" if self.date else self.name

    @property
    def band(self) -> str:
        return f"[{_fmt(self.lo)}, {_fmt(self.hi)}]" if self.lo is not None else f"{self.op} {_fmt(self.value)}"


def _fmt(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


def parse(text: str, source: str = "") -> Expectation:
    """Parse one statement; ValueError (with what was expected) when it does not fit the grammar."""
    if not isinstance(text, str) or len(text) > 300:
        raise ValueError('expected a statement such as "P(sustained_war) <= 0.2" or "median(peak_brent) in [70, 90]"')
    m = _RE.match(text)
    if not m:
        raise ValueError(
            f"cannot read '{text}': expected STAT(OUTCOME) OP NUMBER or STAT(OUTCOME) in [LOW, HIGH], "
            f"with STAT one of P, {', '.join(STATS)}"
        )
    g = m.groupdict()
    if g["cop"] and g["stat"] != "P":
        raise ValueError(f"'{text}': a comparison inside the parentheses needs P(...)")
    nums = {k: float(g[k]) for k in ("cval", "val", "lo", "hi") if g[k] is not None}
    if any(not math.isfinite(v) for v in nums.values()):
        raise ValueError(f"'{text}': numbers must be finite")
    if "lo" in nums and nums["lo"] > nums["hi"]:
        raise ValueError(f"'{text}': the band's low end is above its high end")
    if g["date"]:
        try:
            dt.date.fromisoformat(g["date"])
        except ValueError:
            raise ValueError(f"'{text}': {g['date']} is not a date") from None
    return Expectation(
        text=text.strip(),
        stat=g["stat"],
        name=g["name"],
        date=g["date"],
        cond_op=g["cop"],
        cond_value=nums.get("cval"),
        op=g["op"],
        value=nums.get("val"),
        lo=nums.get("lo"),
        hi=nums.get("hi"),
        source=source,
    )


def _compare(a: Any, op: str, b: float) -> Any:
    return {"<=": a <= b, ">=": a >= b, "<": a < b, ">": a > b, "==": a == b}[op]


def figure(e: Expectation, values: np.ndarray) -> float:
    """The statistic the statement is about, over one value per replicate (NaN = never happened)."""
    v = np.asarray(values, dtype=float)
    if e.stat == "P":
        if e.cond_op is None:
            return float(np.mean(np.nan_to_num(v, nan=0.0) != 0))
        return float(np.mean(np.where(np.isnan(v), False, _compare(v, e.cond_op, float(e.cond_value)))))
    v = v[~np.isnan(v)]
    if not len(v):
        return float("nan")
    if e.stat == "mean":
        return float(v.mean())
    if e.stat in ("min", "max"):
        return float(getattr(v, e.stat)())
    q = 50.0 if e.stat == "median" else float(e.stat[1:])
    return float(np.percentile(v, q))


def holds(e: Expectation, x: float) -> bool:
    """Whether a figure lies in the statement's band."""
    if not math.isfinite(x):
        return False
    if e.lo is not None:
        return e.lo <= x <= e.hi
    return bool(_compare(x, e.op, float(e.value)))
