"""Load the shipped catalog: read its files, check them, apply the calibration overlay, hand out copies.

The files are read and checked once per process (cached); every caller gets its own deep copy,
so a scenario may override any value without touching the catalog another one sees.
"""

from __future__ import annotations

import csv
import functools
import pickle
from pathlib import Path
from typing import Any

from model.catalog.calibration import apply_calibration, calibration_issues
from model.catalog.check import check_catalog
from model.catalog.reporting import check_reporting
from model.errors import InputError
from model.safeyaml import Marks, load_file

HERE = Path(__file__).parent
FILES = (
    "claims.yaml",
    "world.yaml",
    "actors.yaml",
    "actions.yaml",
    "constraints.yaml",
    "outcomes.yaml",
    "reporting.yaml",
)


@functools.lru_cache(maxsize=2)
def _load_raw(calibrated: bool = True) -> tuple[dict[str, Any], dict[str, Marks]]:
    """The catalog and its files' marks: checked, with the calibration overlay applied.

    Cached for the process, so it is read and checked once; callers get copies (``load_catalog``)
    and never change it. A catalog that fails its checks is refused with every problem listed.
    """
    spec: dict[str, Any] = {}
    marks: dict[str, Marks] = {}
    for name in FILES:
        data, m = load_file(HERE / name, display=f"model/catalog/{name}")
        spec[name.removesuffix(".yaml")] = data
        marks[name] = m
    scales: dict[str, dict[str, Any]] = {}
    with open(HERE / "scales.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            scales[row["action"]] = {
                "cameo": row["cameo"],
                "cameo_label": row["cameo_label"],
                "goldstein": float(row["goldstein"]),
                "kahn_rung": int(row["kahn_rung"]),
                "kahn_label": row["kahn_label"],
            }
    out = {
        "claims": spec["claims"]["claims"],
        "not_modelled": spec["claims"].get("not_modelled", {}),
        "sources": spec["claims"]["sources"],
        "world": spec["world"],
        "actors": spec["actors"]["actors"],
        "relations": spec["actors"]["relations"],
        "theatres": spec["actors"].get("theatres", {}),
        "actions": spec["actions"]["actions"],
        "axis": spec["actions"]["axis"],
        "war_parties": spec["actions"]["war_parties"],
        "constraints": spec["constraints"]["constraints"],
        "outcomes": spec["outcomes"]["outcomes"],
        "outcomes_default": spec["outcomes"]["default"],
        "scales": scales,
        "reporting": spec["reporting"]["reporting"],  # who and what reports put first (model.catalog.reporting)
    }
    issues = check_catalog(out) + calibration_issues(out) + check_reporting(out)
    if issues:
        raise InputError(issues)
    if calibrated and (overlay := _overlay_file()).exists():
        data, m = load_file(overlay, display=f"model/catalog/{overlay.name}")
        apply_calibration(out, data, m, f"model/catalog/{overlay.name}")
    return out, marks


def _overlay_file() -> Path:
    """The calibration overlay to apply: ``model.catalog.CALIBRATION`` as it is when a catalog loads.

    Read from the package at call time, not bound when this module is imported, because that
    attribute is the switch that loads the catalog under another overlay (tests set it).
    """
    import model.catalog  # late on purpose (see the docstring); the package is complete before any catalog loads

    return model.catalog.CALIBRATION


def plain_copy(obj: Any) -> Any:
    """A deep copy of plain data (the catalog's dicts, lists, numbers and strings).

    Pickling copies such data about three times faster than ``copy.deepcopy`` (2.4 ms against 6.7
    for the whole catalog), which every run, dated change and table compilation makes.
    """
    return pickle.loads(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))  # noqa: S301 (our own bytes, made one line above)


def load_catalog(calibrated: bool = True) -> dict[str, Any]:
    """A fresh deep copy of the shipped catalog, safe to override.

    ``calibrated=False`` leaves out the calibration overlay: the values as the YAML files state
    them, with their assumptions (the prior the calibration script starts from).
    """
    return plain_copy(_load_raw(calibrated)[0])
