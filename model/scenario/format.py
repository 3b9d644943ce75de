"""The scenario format's vocabulary and limits (format version 1), in one place.

Why one module: the compiler, the JSON schema (``schema.py``), run options
(``Scenario.with_run_options``) and ``--set`` (``settings.py``) must agree on the keys a file
may hold and on every cap; docs/scenarios.md ("Safety and limits") describes the same caps.
"""

from __future__ import annotations

FORMAT_VERSION = 1
MAX_HORIZON = 520  # ten years of weekly steps
MAX_REPLICATES = 10_000_000
MAX_EXTENDS_DEPTH = 16
# Caps on list sections (docs/scenarios.md, Safety and limits): far beyond the shipped scenarios, and
# each keeps a run's cost bounded (events are matched every step; outcomes are columns, plots, lines).
MAX_EVENTS = 500
MAX_CONDITIONAL_EVENTS = 100
MAX_CHANGES = 200
MAX_OUTCOMES = 60
MAX_EXPECT = 100
TOP_KEYS = {
    "version": "format version (1)",
    "name": "scenario name (letters, digits, _ and -)",
    "title": "one-line title",
    "question": "the question the scenario asks",
    "claims": "claim ids the scenario rests on",
    "extends": "a scenario name or relative path to inherit from",
    "horizon": "number of steps",
    "step_days": "days per step",
    "start_date": "calendar date of step 0 (YYYY-MM-DD)",
    "seed": "master seed",
    "replicates": "number of replicates",
    "actors": "overrides of actor values",
    "initial": "initial values of world variables",
    "relations": "initial relations ('a-b': value)",
    "world": "world parameters",
    "constraints": "lift or change constraints by id",
    "constants": "any parameter path fixed to a value",
    "events": "scheduled and conditional events",
    "uncertainties": "parameters sampled once per replicate",
    "levers": "named policy choices",
    "outcomes": "outcomes to report and plot (catalog names, or {name, expr, reduce} definitions)",
    "changes": "dated changes of parameters, variables, relations, actors ([{at, set: {path: value}, label}])",
    "expect": "bands the ensemble must fall in, checked by `entente check` (e.g. 'P(sustained_war) <= 0.2')",
    "questions": "yes/no questions with what happened, scored by `entente score` ([{id, ask, when|chose, by|on, resolution, source}])",
    "policy": "who decides: model (default), or a negative control: inert (nobody decides) or hawk (most escalatory option)",
}
POLICIES = ("model", "inert", "hawk", "random")
OUTCOME_KEYS = {"name", "expr", "reduce", "label", "unit", "doc", "smallest", "kind"}
EVENT_KEYS = {"at", "when", "actor", "action", "target", "once", "label"}
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
# a lever: its keys, and the sections one of its options may set
LEVER_KEYS = ("value", "options", "doc", "label")
SETTING_KEYS = ("constants", "constraints", "events", "actors", "initial", "world", "relations")
SETTINGS_KEY = "settings"  # written by settings.apply_settings into a document, never by a file
