"""JSON Schema of the scenario format (for editors that validate YAML as you type).

Built from the catalog, so actor, constraint, outcome and parameter names in the schema are
exactly those the loader accepts. The loader remains the authority (it also checks
cross-references and ranges the schema cannot express, such as conditions and dates).
"""

from __future__ import annotations

from typing import Any

from model.catalog import load_catalog
from model.engine.config import DISTRIBUTIONS, numeric_paths
from model.engine.outcomes import OUTCOMES, REDUCERS
from model.scenario import ranges
from model.scenario.format import FORMAT_VERSION, MAX_HORIZON, MAX_REPLICATES, TOP_KEYS

NUM = {"type": "number"}


def _distribution() -> dict[str, Any]:
    variants = []
    for dist, fields in DISTRIBUTIONS.items():
        props: dict[str, Any] = {"dist": {"const": dist}, "doc": {"type": "string"}}
        for f in fields:
            props[f] = {"type": "array", "items": NUM, "minItems": 1} if f == "values" else NUM
        variants.append(
            {"type": "object", "properties": props, "required": ["dist", *fields], "additionalProperties": False}
        )
    return {"oneOf": variants}


def _ranged(spec: dict[str, Any], path: str) -> dict[str, Any]:
    """A number schema with the range of ``path`` from model/catalog/ranges.yaml."""
    low, high, reason = ranges.bounds(spec, path)
    out: dict[str, Any] = {"type": "number"}
    if low is not None:
        out["minimum"] = low
    if high is not None:
        out["maximum"] = high
    if reason:
        out["description"] = reason
    return out


def json_schema() -> dict[str, Any]:
    """The schema document (draft 2020-12).

    Section schemas are shared objects, not copies: a lever option's ``actors:`` is the very
    schema of the top-level ``actors:``, so both carry its description.
    """
    spec = load_catalog()
    paths = numeric_paths(spec)
    actors = list(spec["actors"])
    at = {"oneOf": [{"type": "integer", "minimum": 1, "maximum": MAX_HORIZON}, {"type": "string", "format": "date"}]}
    settings = _settings(spec, paths, actors, _event(spec, actors, at))
    props: dict[str, Any] = {
        **_header(spec),
        **settings,
        "uncertainties": {
            "type": "object",
            "properties": {p: {"$ref": "#/$defs/distribution"} for p in paths},
            "additionalProperties": False,
        },
        "levers": _levers(settings),
        "outcomes": _outcomes(),
        "changes": _changes(at),
        "expect": _expect(),
        "questions": _questions(spec, actors),
        "policy": {"enum": ["model", "inert", "hawk", "random"]},
    }
    for key, doc in TOP_KEYS.items():
        props[key]["description"] = doc
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": {
            "distribution": _distribution(),
            "actor_override": _actor_override(),
            "constraint_override": {
                "type": "object",
                "properties": {"lifted": {"type": "boolean"}},
                "additionalProperties": NUM,
            },
        },
        "$id": "https://entente.invalid/scenario-v1.schema.json",
        "title": "entente scenario (format version 1)",
        "type": "object",
        "properties": props,
        "required": ["name"],
        "additionalProperties": False,
    }


def _header(spec: dict[str, Any]) -> dict[str, Any]:
    """The top-level keys before the sections: version, name, texts, claims, extends, calendar, run size."""
    return {
        "version": {"const": FORMAT_VERSION},
        "name": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,80}$"},
        "title": {"type": "string"},
        "question": {"type": "string"},
        "claims": {"type": "array", "items": {"enum": list(spec["claims"])}},
        "extends": {"type": "string"},
        "horizon": {"type": "integer", "minimum": 1, "maximum": MAX_HORIZON},
        "step_days": {"type": "number", "minimum": 0.25, "maximum": 365},
        "start_date": {"type": "string", "format": "date"},
        "seed": {"type": "integer", "minimum": 0},
        "replicates": {"type": "integer", "minimum": 1, "maximum": MAX_REPLICATES},
    }


def _event(spec: dict[str, Any], actors: list[str], at: dict[str, Any]) -> dict[str, Any]:
    """One event: who does what to whom, at a step or date or when a condition holds."""
    return {
        "type": "object",
        "properties": {
            "at": at,
            "when": {
                "type": "string",
                "description": "condition in entente's grammar, e.g. 'escalation >= 6 and us.war_on_iran'",
            },
            "actor": {"enum": actors},
            "action": {"enum": list(spec["actions"])},
            "target": {"enum": [*actors, "none"]},
            "once": {"type": "boolean"},
            "label": {"type": "string"},
        },
        "required": ["actor", "action"],
        "oneOf": [{"required": ["at"]}, {"required": ["when"]}],
        "additionalProperties": False,
    }


def _actor_override() -> dict[str, Any]:
    """The overrides of one actor's values (``actors.<name>``)."""
    return {
        "type": "object",
        "properties": {
            "interests": {
                "type": "object",
                "additionalProperties": {"oneOf": [NUM, {"type": "object", "additionalProperties": NUM}]},
            },
            "stances": {"type": "object", "additionalProperties": {"type": "number", "minimum": -1, "maximum": 1}},
            "response": NUM,
            "initial_grievance": {"type": "object", "additionalProperties": NUM},
        },
        "additionalProperties": False,
    }


def _settings(spec: dict[str, Any], paths: list[str], actors: list[str], event: dict[str, Any]) -> dict[str, Any]:
    """The sections a lever's option may set as well as the file: actors, initial, world, ..., events."""
    return {
        "actors": {
            "type": "object",
            "properties": {a: {"$ref": "#/$defs/actor_override"} for a in actors},
            "additionalProperties": False,
        },
        "initial": {
            "type": "object",
            "properties": {p.split(".", 1)[1]: _ranged(spec, p) for p in paths if p.startswith("initial.")},
            "additionalProperties": False,
        },
        "world": {
            "type": "object",
            "properties": {p.split(".", 1)[1]: _ranged(spec, p) for p in paths if p.startswith("world.")},
            "additionalProperties": False,
        },
        "relations": {
            "type": "object",
            "patternProperties": {"^[a-z]+-[a-z]+$": {"type": "number", "minimum": -1, "maximum": 1}},
            "additionalProperties": False,
        },
        "constraints": {
            "type": "object",
            "properties": {c: {"$ref": "#/$defs/constraint_override"} for c in spec["constraints"]},
            "additionalProperties": False,
        },
        "constants": {
            "type": "object",
            "properties": {p: _ranged(spec, p) for p in paths},
            "additionalProperties": False,
        },
        "events": {"type": "array", "items": event},
    }


def _levers(settings: dict[str, Any]) -> dict[str, Any]:
    """``levers:``: named choices, each option a mapping of the sections in ``settings``."""
    return {
        "type": "object",
        "additionalProperties": {
            "type": "object",
            "properties": {
                "value": {"type": "string"},
                "doc": {"type": "string"},
                "label": {"type": "string"},
                "options": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "properties": {
                            k: settings[k]
                            for k in (
                                "actors",
                                "initial",
                                "world",
                                "relations",
                                "constraints",
                                "constants",
                                "events",
                            )
                        },
                        "additionalProperties": False,
                    },
                },
            },
            "required": ["options"],
            "additionalProperties": False,
        },
    }


def _outcomes() -> dict[str, Any]:
    """``outcomes:``: catalog names, or definitions {name, expr, reduce, ...}."""
    return {
        "type": "array",
        "items": {
            "oneOf": [
                {"enum": list(OUTCOMES)},
                {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "expr": {"type": "string"},
                        "reduce": {"enum": list(REDUCERS)},
                        "label": {"type": "string"},
                        "unit": {"type": "string"},
                        "doc": {"type": "string"},
                        "smallest": NUM,
                        "kind": {"type": "string"},
                    },
                    "required": ["name", "expr", "reduce"],
                    "additionalProperties": False,
                },
            ]
        },
    }


def _changes(at: dict[str, Any]) -> dict[str, Any]:
    """``changes:``: dated changes {at, set, label}."""
    return {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "at": at,
                "set": {"type": "object"},
                "label": {"type": "string"},
            },
            "required": ["at", "set"],
            "additionalProperties": False,
        },
    }


def _expect() -> dict[str, Any]:
    """``expect:``: statements, alone or with their source."""
    return {
        "type": "array",
        "items": {
            "oneOf": [
                {"type": "string"},
                {
                    "type": "object",
                    "properties": {"expect": {"type": "string"}, "source": {"type": "string"}},
                    "required": ["expect"],
                    "additionalProperties": False,
                },
            ]
        },
    }


def _questions(spec: dict[str, Any], actors: list[str]) -> dict[str, Any]:
    """``questions:``: yes/no questions with what happened (scenario/questions.py checks the rest)."""
    date = {"type": "string", "format": "date"}
    return {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "id": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$"},
                "ask": {"type": "string"},
                "when": {"type": "string", "description": "condition in entente's grammar"},
                "chose": {
                    "type": "object",
                    "properties": {
                        "actor": {"enum": actors},
                        "action": {"enum": list(spec["actions"])},
                        "target": {"enum": [*actors, "none"]},
                    },
                    "required": ["actor", "action"],
                    "additionalProperties": False,
                },
                "by": date,
                "on": date,
                "after": date,
                "resolution": {"oneOf": [{"type": "boolean"}, {"enum": ["yes", "no", "Yes", "No", "YES", "NO"]}]},
                "source": {"type": "string"},
                "tags": {"type": "array", "items": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,40}$"}},
            },
            "required": ["id", "ask", "resolution", "source"],
            "allOf": [
                {"oneOf": [{"required": ["when"]}, {"required": ["chose"]}]},
                {"oneOf": [{"required": ["by"]}, {"required": ["on"]}]},
            ],
            "additionalProperties": False,
        },
    }
