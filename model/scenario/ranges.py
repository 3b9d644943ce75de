"""Meaningful ranges of scenario parameters, declared in ``model/catalog/ranges.yaml``.

One table for every way a value enters a scenario (overrides, constants, uncertainty
supports, lever settings): ``check`` says whether a value may stand at a parameter path,
``cross_check`` applies the declared relations between parameters (a floor below its
ceiling). The loader calls these; no range is written in code.
"""

from __future__ import annotations

import fnmatch
import functools
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.safeyaml import load_file

FILE = Path(__file__).parent.parent / "catalog" / "ranges.yaml"


@dataclass(frozen=True)
class Range:
    """The range of the parameters matching ``pattern``; ``variable`` takes a variable's bounds."""

    pattern: str
    low: float | None
    high: float | None
    reason: str
    variable: bool = False


@dataclass(frozen=True)
class Rule:
    """``low`` must not exceed ``high`` (both parameter paths)."""

    low: str
    high: str
    reason: str


@functools.lru_cache(maxsize=1)
def table() -> tuple[tuple[Range, ...], tuple[Rule, ...], tuple[re.Pattern[str], ...]]:
    """The parsed ranges file (cached): ranges, rules and the compiled patterns."""
    data, _ = load_file(FILE, display="model/catalog/ranges.yaml")
    ranges = tuple(
        Range(
            str(r["path"]),
            r.get("low"),
            r.get("high"),
            str(r["reason"]),
            r.get("bounds") == "variable",
        )
        for r in data["ranges"]
    )
    rules = tuple(Rule(str(r["low"]), str(r["high"]), str(r["reason"])) for r in data.get("rules", []))
    patterns = tuple(re.compile(fnmatch.translate(r.pattern)) for r in ranges)
    return ranges, rules, patterns


@functools.lru_cache(maxsize=4096)
def range_for(path: str) -> Range | None:
    """The first declared range whose pattern matches ``path``."""
    ranges, _, patterns = table()
    for r, pat in zip(ranges, patterns, strict=True):
        if pat.match(path):
            return r
    return None


def _variable_of(spec: dict[str, Any], path: str) -> str | None:
    if path.startswith("initial."):
        return path.split(".", 1)[1]
    parts = path.split(".")
    if len(parts) == 5 and parts[0] == "actors" and parts[2] == "interests":
        term = spec["actors"].get(parts[1], {}).get("interests", {}).get(parts[3], {})
        return term.get("var") if isinstance(term, dict) else None
    return None


def bounds(spec: dict[str, Any], path: str) -> tuple[float | None, float | None, str]:
    """(low, high, reason) for the parameter at ``path`` (None where unbounded)."""
    r = range_for(path)
    if r is None:
        return None, None, ""
    if not r.variable:
        return r.low, r.high, r.reason
    var = _variable_of(spec, path)
    if var is not None and var.startswith("relation."):
        return -1.0, 1.0, r.reason
    info = spec["world"]["variables"].get(var) if var is not None else None
    if not isinstance(info, dict):
        return None, None, r.reason
    return info.get("lower"), info.get("upper"), r.reason


def check(spec: dict[str, Any], path: str, value: Any, name: bool = False) -> str | None:
    """Why ``value`` may not stand at ``path`` (one line, naming the path if ``name``), or None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return f"expected a finite number, found {value}"
    low, high, reason = bounds(spec, path)
    if (low is not None and value < low) or (high is not None and value > high):
        where = f" for '{path}'" if name else ""
        return f"{_fmt(value)} is outside [{_fmt(low, '-inf')}, {_fmt(high, 'inf')}]{where} ({reason})"
    return None


def cross_check(support: dict[str, tuple[float, float]]) -> list[tuple[str, str, str]]:
    """Broken relations as (path to report, other path, message); ``support`` maps a path to (min, max)."""
    out = []
    for rule in table()[1]:
        if rule.low in support and rule.high in support:
            lo_max = support[rule.low][1]
            hi_min = support[rule.high][0]
            if lo_max > hi_min:
                out.append(
                    (
                        rule.low,
                        rule.high,
                        f"{rule.low} ({_fmt(lo_max)}) must not exceed {rule.high} ({_fmt(hi_min)}): {rule.reason}",
                    )
                )
    return out


def _fmt(x: Any, none: str = "") -> str:
    if x is None:
        return none
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    s = str(x)
    return s if len(s) <= 24 else f"{x:.6g}"
