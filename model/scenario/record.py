"""The catalog's record on a scenario's calendar: history as changes, a warm-up, the oil price at the start.

Why apart from the scenario's own sections: a dated scenario starts at the world the record gives
(docs/scenarios.md, "Calendar"), yet what the scenario sets itself must win over the record:
``_explicit_paths`` (the paths a scenario sets) is left out of the history's start values and of
the oil-price anchor.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import math
from pathlib import Path
from typing import Any

from model.engine.config import Change, Event


def _history_changes(
    doc: dict[str, Any], spec: dict[str, Any], horizon: int, step_days: float, start_date: dt.date | None
) -> list[Change]:
    """The catalog's history as dated changes, where the run's calendar covers it (none without a start date).

    A fact dated on or before the start sets the world's state at the start, so a value the
    scenario sets itself is left out of it.
    """
    changes: list[Change] = []
    end_day = float(horizon) * float(step_days) if isinstance(step_days, int | float) else 0.0
    if start_date is None:
        return changes
    own = _explicit_paths(doc)
    for h in spec["world"].get("history", []):
        day = (dt.date.fromisoformat(str(h["at"])) - start_date).days
        if day <= end_day:
            step = max(1, math.ceil(day / float(step_days)))
            values = dict(h["set"])
            if day <= 0:  # the world's state at the start: what the scenario sets itself wins
                values = {k: v for k, v in values.items() if k not in own}
            if values:
                changes.append(Change(step, values, str(h.get("label", "")), day=float(day)))
    return changes


def _warmup(spec: dict[str, Any], start_date: dt.date | None) -> tuple[list[Event], float]:
    """The record before the start, replayed in a warm-up so that the state at the start follows from it.

    Returns the warm-up's events and its length in days (the catalog's ``warmup_days``).
    """
    warmup: list[Event] = []
    warmup_days = float(spec["world"]["parameters"].get("warmup_days", {}).get("value", 0.0))
    if start_date is not None and warmup_days > 0:
        warmup = _record_events(spec, start_date, warmup_days)
    return warmup, warmup_days


def _anchor_start(doc: dict[str, Any], spec: dict[str, Any], start_date: dt.date | None) -> dict[str, float]:
    """Set the oil price the record gives for the start date (EIA closes), unless the scenario sets it.

    Returns the anchors applied (``{"brent": close}``, or {} when none), which the Config records.
    """
    anchors: dict[str, float] = {}
    if start_date is not None:
        close = brent_close_before(start_date)
        own = _explicit_paths(doc)
        if close is not None and not {"variables.brent_fundamental", "world.brent_base"} & own:
            spec["world"]["variables"]["brent_fundamental"]["initial"] = close
            spec["world"]["parameters"]["brent_base"]["value"] = close
            anchors["brent"] = close
    return anchors


def _record_events(spec: dict[str, Any], start: dt.date, window: float) -> list[Event]:
    """The catalog's record of what happened in the ``window`` days before the start, as warm-up events."""
    out = []
    for r in spec["world"].get("record", []):
        day = float((dt.date.fromisoformat(str(r["at"])) - start).days)
        if -window < day <= 0:
            out.append(
                Event(
                    actor=r["actor"],
                    action=r["action"],
                    target=r.get("target", "none"),
                    day=day,
                    label=str(r.get("label", "")),
                )
            )
    return out


def brent_close_before(date: dt.date) -> float | None:
    """The last stored Brent close (EIA spot) before a date, or None outside the stored series."""
    table = _brent_table()
    key = date.isoformat()
    best = None
    for d, v in table:
        if d < key:
            best = v
        else:
            break
    if best is None or (table and key > table[-1][0] and (date - dt.date.fromisoformat(table[-1][0])).days > 7):
        return None
    return best


@functools.lru_cache(maxsize=1)
def _brent_table() -> list[tuple[str, float]]:
    path = Path(__file__).resolve().parent.parent / "catalog" / "brent_daily.csv"
    rows = []
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(line for line in fh if not line.startswith("#")):
            rows.append((row["date"], float(row["close"])))
    return rows


def _explicit_paths(doc: dict[str, Any]) -> set[str]:
    """The change paths a scenario sets itself (initial values, relations, parameters), which the timeline must not undo."""
    out: set[str] = set()
    for v in (doc.get("initial") or {}) if isinstance(doc.get("initial"), dict) else {}:
        out.add(f"variables.{v}")
    for pair in (doc.get("relations") or {}) if isinstance(doc.get("relations"), dict) else {}:
        a, _, b = str(pair).partition("-")
        out |= {f"relations.{a}-{b}", f"relations.{b}-{a}"}
    for p in (doc.get("world") or {}) if isinstance(doc.get("world"), dict) else {}:
        out.add(f"world.{p}")
    for p in (doc.get("constants") or {}) if isinstance(doc.get("constants"), dict) else {}:
        out.add(str(p))
    for p in (doc.get("uncertainties") or {}) if isinstance(doc.get("uncertainties"), dict) else {}:
        # a sampled value is the scenario's own too (initial.X is the variable X's starting value)
        head, _, rest = str(p).partition(".")
        out.add(f"variables.{rest}" if head == "initial" else str(p))
    cons = doc.get("constraints") if isinstance(doc.get("constraints"), dict) else {}
    for cid, c in (cons or {}).items():
        if isinstance(c, dict):
            out |= {f"constraints.{cid}.{k}" for k in c}
    return out
