"""The cited data: actors, actions, constraints, world, claims and escalation scales.

Behaviour is data here and mechanism is code in ``model.engine``. ``load_catalog`` returns
a fresh, plain-dict copy that a scenario may override; ``check_catalog`` validates the
cross-references (every action, actor, variable, claim and condition named exists) so that
an override that breaks the model is reported, never simulated.

The code lives in modules named by what they do; this package only hands their names on:

- ``load``: read the files, check them, apply the calibration overlay, hand out copies;
- ``check``: ``check_catalog``, the cross-check of a (possibly overridden) catalog;
- ``calibration``: the calibratable values, their ranges and the overlay (its format is described there);
- ``names``: the names an expression may read;
- ``outcomes``: the outcome table (reducer, kind, unit);
- ``citations``: provenance and the claims ledger;
- ``reporting``, ``glossary``, ``docs``: report roles, labels, the generated docs tables.

``CALIBRATION`` is the overlay file the loader applies; it is read from this package each time a
catalog loads, so setting it here loads the catalog under another overlay.
"""

from __future__ import annotations

from model.catalog.calibration import (
    CALIBRATION,
    CALIBRATION_SCRIPT,
    FORECAST_BOUNDS,
    FORECAST_FAMILIES,
    FORECAST_REQUIRED,
    apply_calibration,
    calibration_issues,
    calibration_nodes,
    calibration_space,
    calibration_summary,
    sampled_by_default,
    structural_uncertainty,
)
from model.catalog.check import CONSTRAINT_KINDS, INTEREST_KINDS, check_catalog
from model.catalog.citations import claim_references, provenance
from model.catalog.load import FILES, HERE, _load_raw, load_catalog, plain_copy
from model.catalog.names import count_names, variable_names, world_variables
from model.catalog.outcomes import OUTCOME_REDUCERS, outcome_table

__all__ = [
    "CALIBRATION",
    "CALIBRATION_SCRIPT",
    "CONSTRAINT_KINDS",
    "FILES",
    "FORECAST_BOUNDS",
    "FORECAST_FAMILIES",
    "FORECAST_REQUIRED",
    "HERE",
    "INTEREST_KINDS",
    "OUTCOME_REDUCERS",
    "_load_raw",  # scripts/calibrate.py and tests clear its cache after changing the overlay
    "apply_calibration",
    "calibration_issues",
    "calibration_nodes",
    "calibration_space",
    "calibration_summary",
    "check_catalog",
    "claim_references",
    "count_names",
    "load_catalog",
    "outcome_table",
    "plain_copy",
    "provenance",
    "sampled_by_default",
    "structural_uncertainty",
    "variable_names",
    "world_variables",
]
