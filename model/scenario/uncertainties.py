"""Uncertainties: parameters sampled once per replicate, and relations between parameters over every draw.

Why the relations are checked here: a floor must not exceed its ceiling (model/catalog/ranges.yaml,
``rules``) over every value a draw can take, not only at the catalog's values, so the check
reads the supports of the distributions as well as the fixed values.
"""

from __future__ import annotations

from typing import Any

from model.engine.config import DISTRIBUTIONS, Uncertainty, get_value, samplable_paths
from model.safeyaml import type_name
from model.scenario import ranges
from model.scenario.check import _Checker, _short
from model.scenario.parameters import _check_number, _unknown_path


def _check_uncertainties(
    ck: _Checker, doc: dict[str, Any], spec: dict, paths: list[str], path_set: set[str]
) -> tuple[list[Uncertainty], dict[str, tuple]]:
    """``uncertainties:``: the parameters sampled once per replicate, and where each was written."""
    uncertainties: list[Uncertainty] = []
    sampled: dict[str, tuple] = {}
    section = doc.get("uncertainties", {})
    if not ck.expect(("uncertainties",), section, (dict,), "a mapping of parameter paths to distributions"):
        return uncertainties, sampled
    for path, d in section.items():
        up = ("uncertainties", path)
        if path not in path_set:
            ck.bad(up, _unknown_path(spec, str(path), paths, ck))
            continue
        if path not in samplable_paths(spec):
            ck.bad(
                up,
                f"'{path}' cannot be sampled per replicate: it is the length of the step, one value for a "
                "whole batch (run one scenario per step length instead)",
            )
            continue
        u = _check_distribution(ck, spec, up, path, d)
        if u is not None:
            uncertainties.append(u)
            sampled[path] = up
    return uncertainties, sampled


def _check_distribution(ck: _Checker, spec: dict, where: tuple, path: str, d: Any) -> Uncertainty | None:
    if not ck.expect(where, d, (dict,), "a distribution such as {dist: uniform, low: 0, high: 1}"):
        return None
    if "dist" not in d:
        ck.bad(where, f"missing 'dist' (one of {', '.join(DISTRIBUTIONS)})")
        return None
    dist = d["dist"]
    if not ck.name((*where, "dist"), dist, DISTRIBUTIONS, "distribution"):
        return None
    need = DISTRIBUTIONS[dist]
    params: dict[str, Any] = {}
    ok = True
    for k in d:
        if k not in (*need, "dist", "doc"):
            ck.bad((*where, k), f"unknown field '{_short(k)}' for {dist}; expected {', '.join(need)}")
            ok = False
    if "doc" in d and not isinstance(d["doc"], str):
        ck.bad((*where, "doc"), f"expected text, found {type_name(d['doc'])}")
        ok = False
    for k in need:
        if k not in d:
            ck.bad(where, f"{dist} needs '{k}'")
            ok = False
            continue
        if k == "values":
            vals = d[k]
            if not ck.expect((*where, k), vals, (list,), "a list of numbers"):
                ok = False
                continue
            if not vals:
                ck.bad((*where, k), "a choice needs at least one value")
                ok = False
                continue
            for i, v in enumerate(vals):
                ok &= _check_number(ck, spec, (*where, k, i), path, v)
            params[k] = vals
        else:
            good = ck.number((*where, k), d[k])
            if good and k in ("low", "high"):
                good = _check_number(ck, spec, (*where, k), path, d[k])
            ok &= good
            params[k] = d[k]
    if not ok:
        return None
    if dist in ("uniform", "triangular", "normal") and params["low"] > params["high"]:
        ck.bad((*where, "low"), f"low ({params['low']}) is above high ({params['high']})")
        return None
    if dist == "triangular" and not params["low"] <= params["mode"] <= params["high"]:
        ck.bad((*where, "mode"), f"mode ({params['mode']}) must lie between low and high")
        return None
    if dist == "normal" and params["sd"] <= 0:
        ck.bad((*where, "sd"), f"sd must be positive, found {params['sd']}")
        return None
    if dist == "normal" and not params["low"] <= params["mean"] <= params["high"]:
        ck.bad((*where, "mean"), "mean must lie between low and high")
        return None
    return Uncertainty(path, dist, params)


def _cross_check(
    ck: _Checker, spec: dict, fixed: dict[str, tuple], sampled: dict[str, tuple], uncertainties: list[Uncertainty]
) -> None:
    support: dict[str, tuple[float, float]] = {}
    by_path = {u.path: u for u in uncertainties}
    for rule in ranges.table()[1]:
        for path in (rule.low, rule.high):
            if path in by_path:
                p = by_path[path].params
                vals = p.get("values") or [p["low"], p["high"]]
                support[path] = (min(vals), max(vals))
            else:
                try:
                    v = get_value(spec, path)
                except KeyError:
                    continue
                if isinstance(v, int | float):
                    support[path] = (v, v)
    for low, high, message in ranges.cross_check(support):
        where = sampled.get(low) or fixed.get(low) or sampled.get(high) or fixed.get(high)
        if where is not None:  # the catalog itself is checked by the tests
            ck.bad(where, message)
