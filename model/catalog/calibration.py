"""Calibration: the values the calibration script may tune, their ranges, and the overlay it writes.

A value the calibration script may tune declares its search range where it is written::

    world.yaml parameters:   grievance_discharge: {value: 0.9, ..., calibrate: {low: 0.5, high: 1.0}}
    a variable's initial value, a relation, a stance, a response or an initial grievance: the same
    an interest:             {weight: -0.4, ..., calibrate: {low: -1, high: 0}}   (the weight), or
                             calibrate: {target: {low: .., high: ..}, width: {...}} (other fields)
    a constraint:            calibrate: {<param>: {low: .., high: ..}}

scripts/calibrate.py writes the values it chose to model/catalog/calibration.yaml, an overlay
applied on top of the YAML files: every value must be declared and within its range, and each
says it was calibrated (its provenance names the run), so no value is tuned out of sight.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from model.errors import InputError, InputIssue, did_you_mean
from model.safeyaml import Marks

# The overlay the catalog loader applies. The loader reads it as model.catalog.CALIBRATION when a
# catalog loads, so pointing that package attribute at another file loads the catalog under it.
CALIBRATION = Path(__file__).with_name("calibration.yaml")
CALIBRATION_SCRIPT = "scripts/calibrate.py"
_PRIMARY = ("value", "weight", "initial")

# the grid scripts/calibrate.py searches for the forecast recalibration (model.analysis.score.fit_recalibration)
FORECAST_BOUNDS = {"shift": (-2.5, 2.5), "slope": (0.3, 1.5), "hedge": (0.0, 0.3), "base": (0.0, 1.0)}
FORECAST_REQUIRED = ("shift", "slope")  # hedge and base may be left out (no hedge)
# the question families it is fitted for (model.analysis.score.FAMILIES)
FORECAST_FAMILIES = ("choice", "state")

# Reports a problem at a path of the overlay (located by its marks when it has them).
_Bad = Callable[[tuple[Any, ...], str], None]


def _declared(node: Any, key: str, field: str | None = None) -> Any:
    """The {low, high} a node declares for ``key`` (its primary value) or for ``field`` (None if none)."""
    cal = node.get("calibrate") if isinstance(node, dict) else None
    if not isinstance(cal, dict):
        return None
    if field is None:
        return cal if "low" in cal or "high" in cal else None
    if "low" in cal or "high" in cal:
        return cal if field in _PRIMARY and field == key else None
    return cal.get(field)


def calibration_nodes(spec: dict[str, Any]) -> dict[str, tuple[dict[str, Any], str, dict[str, Any], Any]]:
    """Every calibratable value: path -> (holder, key, node that declares it, its {low, high} declaration).

    ``holder[key]`` is the value; ``node`` carries the ``calibrate:`` entry and, once calibrated,
    the ``calibrated:`` provenance (a constraint for its parameters, else the holder itself).
    """
    out: dict[str, tuple[dict[str, Any], str, dict[str, Any], Any]] = {}

    def add(path: str, holder: Any, key: str, node: Any, decl: Any) -> None:
        if decl is not None and isinstance(holder, dict):
            out[path] = (holder, key, node, decl)

    for name, par in spec["world"]["parameters"].items():
        add(f"world.{name}", par, "value", par, _declared(par, "value"))
    for name, var in spec["world"]["variables"].items():
        add(f"initial.{name}", var, "initial", var, _declared(var, "initial"))
    for pair, rel in spec["relations"].items():
        add(f"relations.{pair}", rel, "value", rel, _declared(rel, "value"))
    for cid, con in spec["constraints"].items():
        cal = con.get("calibrate")
        if isinstance(cal, dict):
            for param, decl in cal.items():
                add(f"constraints.{cid}.{param}", con.get("params") or {}, str(param), con, decl)
    for a, actor in spec["actors"].items():
        add(
            f"actors.{a}.response",
            actor.get("response"),
            "weight",
            actor.get("response"),
            _declared(actor.get("response"), "weight"),
        )
        for issue, st in (actor.get("stances") or {}).items():
            add(f"actors.{a}.stances.{issue}", st, "value", st, _declared(st, "value"))
        for b, g in (actor.get("initial_grievance") or {}).items():
            add(f"actors.{a}.initial_grievance.{b}", g, "value", g, _declared(g, "value"))
        for term, it in (actor.get("interests") or {}).items():
            for fld in ("weight", "target", "width", "threshold"):
                add(f"actors.{a}.interests.{term}.{fld}", it, fld, it, _declared(it, "weight", fld))
    return out


def structural_uncertainty(spec: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """Assumed values sampled per replicate by default: path -> (low, high) around the current value.

    A calibratable value that declares a relative ``spread`` (``calibrate: {low, high, spread}``) is
    drawn per replicate, uniformly within ``value * (1 -/+ spread)`` (clipped to its calibration
    range): the model does not pretend to know an assumed value exactly, so a question it cannot
    settle gets a probability between 0 and 1. The calibration moves the centre; the spread stays.
    """
    out: dict[str, tuple[float, float]] = {}
    for path, (holder, key, _node, decl) in calibration_nodes(spec).items():
        spread = decl.get("spread") if isinstance(decl, dict) else None
        if not spread:
            continue
        v = float(holder[key])
        lo, hi = sorted((v * (1 - float(spread)), v * (1 + float(spread))))
        lo = max(lo, float(decl.get("low", lo)))
        hi = min(hi, float(decl.get("high", hi)))
        if hi > lo:
            out[path] = (lo, hi)
    return out


def sampled_by_default(spec: dict[str, Any]) -> list[str]:
    """Every path drawn per replicate unless a scenario fixes it: the disputed values and the assumed ones."""
    return list(spec["world"].get("disputed", {})) + list(structural_uncertainty(spec))


def calibration_space(spec: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """The parameters declared calibratable and their search ranges: path -> (low, high).

    An entry with ``search: false`` is estimated elsewhere (its ``doc`` says from what): it keeps its
    range and spread, but the scorer does not move it.
    """
    return {
        p: (float(d["low"]), float(d["high"]))
        for p, (_, _, _, d) in calibration_nodes(spec).items()
        if d.get("search", True) is not False
    }


def calibration_issues(spec: dict[str, Any], file: str = "catalog") -> list[InputIssue]:
    """Check the shipped catalog's ``calibrate:`` declarations: numbers, low < high, the value inside, not disputed.

    Run on the catalog as loaded, not on a scenario's overrides (a scenario may set a value
    outside the range the calibration searches; ranges.yaml says what is valid).
    """
    issues: list[InputIssue] = []

    def bad(key: str, message: str) -> None:
        issues.append(InputIssue(file, None, None, key, message))

    for cid, con in spec["constraints"].items():
        cal = con.get("calibrate")
        if cal is not None and not isinstance(cal, dict):
            bad(f"constraints.{cid}.calibrate", "expected {<param>: {low: NUMBER, high: NUMBER}}")
    disputed = set(spec["world"].get("disputed", {}))
    for path, (holder, key, _node, decl) in calibration_nodes(spec).items():
        where = f"{path} (calibrate)"
        if (
            not isinstance(decl, dict)
            or set(decl) - {"low", "high", "doc", "spread", "search"}
            or not {"low", "high"} <= set(decl)
        ):
            bad(where, "expected {low: NUMBER, high: NUMBER} and optionally spread: FRACTION, search: false")
        elif "spread" in decl and not (isinstance(decl["spread"], int | float) and 0 < decl["spread"] < 1):
            bad(where, "spread is a fraction of the value, between 0 and 1")
            continue
        lo, hi = decl["low"], decl["high"]
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lo, hi)) or not lo < hi:
            bad(where, f"expected numbers with low < high, found low {lo!r}, high {hi!r}")
            continue
        if key not in holder:
            owner = path.split(".")[1] if path.startswith("constraints.") else path
            bad(where, f"{owner} has no parameter '{key}'" if owner != path else f"{path} has no '{key}'")
            continue
        value = holder[key]
        if isinstance(value, int | float) and not lo <= value <= hi:
            bad(where, f"the value {value} lies outside its declared range [{lo}, {hi}]")
        if path in disputed:
            bad(
                where,
                "a disputed value is sampled per replicate (issue 18: structural uncertainty stays sampled); it cannot be calibrated",
            )
    return issues


def apply_calibration(spec: dict[str, Any], data: Any, marks: Marks, file: str) -> list[str]:
    """Apply a calibration overlay (scripts/calibrate.py's output) to a catalog; return the paths set.

    The overlay is ``{run: {...}, values: {path: number}}``. Every path must be declared
    calibratable and its value finite and within the declared range (InputError, located, if
    not). Each value's provenance becomes ``calibrated: scripts/calibrate.py (<run>)``.
    Every problem in the overlay is collected before it is refused, so one pass lists them all.
    """
    issues: list[InputIssue] = []

    def bad(path: tuple, message: str) -> None:
        line, col = marks.at(path) if isinstance(marks, Marks) else (1, 1)
        issues.append(InputIssue(file, line or 1, col or 1, ".".join(str(p) for p in path), message))

    if not isinstance(data, dict):
        bad((), "expected a mapping with 'run' and 'values'")
        raise InputError(issues)
    run, values = _overlay_sections(data, bad)
    summary = calibration_summary(run)
    done = _apply_values(spec, values, summary, bad)
    forecast = data.get("forecast")
    if forecast is not None:
        done += _apply_forecast(spec, forecast, summary, bad)
    if issues:
        raise InputError(issues)
    return done


def _overlay_sections(data: dict[str, Any], bad: _Bad) -> tuple[dict[str, Any], dict[str, Any]]:
    """The overlay's ``run`` and ``values``; one that is missing or malformed is empty (and reported)."""
    for k in data:
        if k not in ("run", "values", "forecast"):
            bad((k,), f"unknown key '{k}'; expected run, values, forecast")
    run = data.get("run") or {}
    values = data.get("values") or {}
    if not isinstance(run, dict):
        bad(("run",), "expected a mapping describing the calibration run")
        run = {}
    if not isinstance(values, dict):
        bad(("values",), "expected a mapping of parameter paths to numbers")
        values = {}
    return run, values


def _apply_values(spec: dict[str, Any], values: dict[str, Any], summary: str, bad: _Bad) -> list[str]:
    """Set each overlay value that is declared, searched and in range; mark it calibrated; return the paths set."""
    nodes = calibration_nodes(spec)
    done = []
    for path, v in values.items():
        if path not in nodes:
            hint = did_you_mean(str(path), list(nodes)) if nodes else " (no parameter declares calibrate: {low, high})"
            bad(("values", path), f"'{path}' is not declared calibratable in the catalog{hint}")
            continue
        holder, key, node, decl = nodes[path]
        if decl.get("search", True) is False:
            bad(("values", path), f"'{path}' is estimated from data (search: false), not by the calibration")
            continue
        lo, hi = float(decl["low"]), float(decl["high"])
        if isinstance(v, bool) or not isinstance(v, int | float) or not (lo <= v <= hi):
            bad(("values", path), f"expected a number in its declared range [{lo:g}, {hi:g}], found {v!r}")
            continue
        holder[key] = float(v)
        text = f"{CALIBRATION_SCRIPT} ({summary})"
        if node is not holder:  # a constraint's parameter: the constraint names which
            text = f"{CALIBRATION_SCRIPT} ({key} = {float(v):g}; {summary})"
        node["calibrated"] = text
        done.append(str(path))
    return done


def _apply_forecast(spec: dict[str, Any], forecast: Any, summary: str, bad: _Bad) -> list[str]:
    """Set the recalibration of question forecasts (model.analysis.score.recalibrate) within the fit's bounds.

    One ``{shift, slope}`` for every question, or one per question family (``{choice: {...}, state: {...}}``);
    it lands in the catalog's ``reporting.forecast``. Returns the paths set.
    """
    if not isinstance(forecast, dict):
        bad(
            ("forecast",),
            "expected a mapping {choice: {shift, slope, hedge, base}, state: {...}} or {shift, slope, ...}",
        )
        return []
    done = []
    flat = any(k in FORECAST_BOUNDS for k in forecast)
    parts = {f: forecast for f in FORECAST_FAMILIES} if flat else forecast
    target = spec["reporting"].setdefault("forecast", {})
    for fam, part in parts.items():
        where = ("forecast",) if flat else ("forecast", fam)
        if fam not in FORECAST_FAMILIES:
            bad(
                where,
                f"unknown key '{fam}'; expected {', '.join(FORECAST_FAMILIES)} (or {', '.join(FORECAST_BOUNDS)})",
            )
            continue
        if not isinstance(part, dict):
            bad(where, f"expected a mapping {{{', '.join(FORECAST_BOUNDS)}}}")
            continue
        node = target.setdefault(fam, {})
        for key, (lo, hi) in FORECAST_BOUNDS.items():
            v = part.get(key)
            if v is None and key not in FORECAST_REQUIRED:
                continue
            if isinstance(v, bool) or not isinstance(v, int | float) or not (lo <= v <= hi):
                bad((*where, key), f"expected a number in [{lo:g}, {hi:g}], found {v!r}")
                continue
            node[key] = float(v)
        for k in part:
            if k not in FORECAST_BOUNDS:
                bad((*where, k), f"unknown key '{k}'; expected {', '.join(FORECAST_BOUNDS)}")
        node["calibrated"] = f"{CALIBRATION_SCRIPT} ({summary})"
        done += [f"reporting.forecast.{fam}.{k}" for k in FORECAST_BOUNDS if k in part]
    return done


def calibration_summary(run: dict[str, Any]) -> str:
    """One line naming a calibration run: date, sample size, train and held-out scores."""
    parts = [str(run.get("date", "undated"))]
    if run.get("samples") and run.get("replicates"):
        parts.append(f"{run['samples']} sets x {run['replicates']} replicates")
    for key, label in (("train", "train"), ("held_out", "held-out")):
        ep = run.get(key)
        sc = run.get(f"{key}_score") or {}
        if isinstance(ep, list):
            skill = sc.get("skill") if isinstance(sc, dict) else None
            parts.append(
                f"{label} {len(ep)} episodes" + (f", skill {skill:.2f}" if isinstance(skill, int | float) else "")
            )
    return "; ".join(parts)
