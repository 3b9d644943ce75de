"""Scenario files (format version 1): load, validate, resolve ``extends``, compile to a Config.

A scenario is untrusted input. Every problem is collected (not just the first) and reported
as one line with file, line, column and key path; nothing in a file can execute code. See
docs/scenarios.md for the format and its merge rules.

This ``__init__`` only hands names on; the work is done in one module per step, each small
enough to read on its own:

* ``format``: the format's keys and limits.
* ``check``: the checker every section reports its issues through.
* ``read``: a file and its ``extends`` chain, merged into one document with the origin of each key.
* ``levers``: each lever's chosen option, merged onto the document.
* ``parameters``, ``uncertainties``: the sections that set or sample the catalog's numbers.
* ``timeline``, ``record``: events and dated changes; the catalog's record on the run's calendar.
* ``outcomes``, ``expect``, ``questions``: what a run reports, its expectations, its scored questions.
* ``compile``: every section checked in order, then the Config built; ``compiled``: the Scenario.
* ``ranges``: the parameters' ranges (model/catalog/ranges.yaml).
* ``settings``: ``--set``, sweeps and ``overrides=``; ``schema``: the format's JSON Schema.
"""

from __future__ import annotations

from model.scenario import ranges
from model.scenario.check import LOCAL_INDEX, MAX_SUGGESTIONS
from model.scenario.compile import compile_document, load_scenario, validate
from model.scenario.compiled import Scenario
from model.scenario.format import (
    EVENT_KEYS,
    FORMAT_VERSION,
    LEVER_KEYS,
    MAX_CHANGES,
    MAX_CONDITIONAL_EVENTS,
    MAX_EVENTS,
    MAX_EXPECT,
    MAX_EXTENDS_DEPTH,
    MAX_HORIZON,
    MAX_OUTCOMES,
    MAX_REPLICATES,
    NAME_CHARS,
    OUTCOME_KEYS,
    POLICIES,
    SETTING_KEYS,
    SETTINGS_KEY,
    TOP_KEYS,
)
from model.scenario.read import load_document, scenarios_dir, shipped
from model.scenario.record import brent_close_before

# isort: split
# Private helpers that lived in this file before the split: still importable from here, so that
# nothing that reached for them needs to change. New code imports them from their own module.
from model.scenario.check import _capped as _capped
from model.scenario.check import _Checker as _Checker
from model.scenario.check import _short as _short
from model.scenario.levers import _apply_levers as _apply_levers
from model.scenario.levers import _prefix_index as _prefix_index
from model.scenario.outcomes import _check_expectation as _check_expectation
from model.scenario.outcomes import _check_outcome as _check_outcome
from model.scenario.parameters import _MISSING as _MISSING
from model.scenario.parameters import _bounds as _bounds
from model.scenario.parameters import _check_number as _check_number
from model.scenario.parameters import _owned_relation as _owned_relation
from model.scenario.parameters import _scalar as _scalar
from model.scenario.parameters import _set_number as _set_number
from model.scenario.parameters import _unknown_path as _unknown_path
from model.scenario.read import _file_marks as _file_marks
from model.scenario.read import _merge as _merge
from model.scenario.read import _resolve_extends as _resolve_extends
from model.scenario.read import _shift_marks as _shift_marks
from model.scenario.record import _brent_table as _brent_table
from model.scenario.record import _explicit_paths as _explicit_paths
from model.scenario.record import _record_events as _record_events
from model.scenario.timeline import _check_change as _check_change
from model.scenario.timeline import _check_event as _check_event
from model.scenario.timeline import _day_step as _day_step
from model.scenario.uncertainties import _check_distribution as _check_distribution
from model.scenario.uncertainties import _cross_check as _cross_check

__all__ = [
    "EVENT_KEYS",
    "FORMAT_VERSION",
    "LEVER_KEYS",
    "LOCAL_INDEX",
    "MAX_CHANGES",
    "MAX_CONDITIONAL_EVENTS",
    "MAX_EVENTS",
    "MAX_EXPECT",
    "MAX_EXTENDS_DEPTH",
    "MAX_HORIZON",
    "MAX_OUTCOMES",
    "MAX_REPLICATES",
    "MAX_SUGGESTIONS",
    "NAME_CHARS",
    "OUTCOME_KEYS",
    "POLICIES",
    "SETTINGS_KEY",
    "SETTING_KEYS",
    "TOP_KEYS",
    "Scenario",
    "brent_close_before",
    "compile_document",
    "load_document",
    "load_scenario",
    "ranges",
    "scenarios_dir",
    "shipped",
    "validate",
]
