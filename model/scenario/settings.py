"""Settings given outside the file: ``--set lever=option``, ``--set path=value``, sweeps, ``overrides=``.

A setting is applied to the merged scenario document *before* it is compiled, so it passes
exactly the validation a value written in the YAML file passes (ranges, relations between
parameters, the catalog's checks) and its errors name the flag instead of a file line:
``--set levers.us_restraint=strong: unknown option 'strong'; did you mean 'firm'?``.

* ``NAME=OPTION`` or ``levers.NAME=OPTION`` picks a lever's option (``value:`` of the lever).
* ``PATH=NUMBER`` fixes any parameter path (docs/scenarios.md, "Parameter paths") as a
  ``constants:`` entry would; a path the scenario samples (``uncertainties:``) is fixed
  instead, with the other draws unchanged (draws are keyed by path: common random numbers).
* ``constraints.<ID>.lifted=true|false`` lifts or restores a constraint.

The settings are recorded in the resolved document (``resolved["settings"]``, in the manifest
and the scenario digest), so ``entente rerun`` reproduces them and two runs with different
settings never share a hash.
"""

from __future__ import annotations

import copy
import math
import re
from pathlib import Path
from typing import Any

from model.catalog import load_catalog
from model.catalog.glossary import label
from model.engine.config import get_value, numeric_paths
from model.errors import InputError, InputIssue, did_you_mean
from model.scenario.compile import compile_document
from model.scenario.compiled import Scenario
from model.scenario.format import SETTINGS_KEY
from model.scenario.parameters import _owned_relation
from model.scenario.read import load_document, shipped

Setting = str | float | int | bool
TRUE_WORDS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}


def flag_label(source: str, key: str, value: Any) -> str:
    """How a setting is named in messages: ``--set levers.us_restraint=strong``."""
    return f"{source} {key}={_text(value)}"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value)) if not math.isnan(value) else "nan"
    return str(value)


def parse_assignments(items: list[str] | None, source: str = "--set") -> dict[str, str]:
    """``["a=b", "c.d=0.3"]`` from the command line as an ordered mapping (InputError on a malformed item)."""
    out: dict[str, str] = {}
    for item in items or []:
        key, eq, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not eq or not key or not value:
            raise InputError.one(
                f"{source} {item}", "expected NAME=VALUE (a lever and an option, or a parameter path and a number)"
            )
        if key in out:
            raise InputError.one(f"{source} {item}", f"'{key}' is set twice")
        out[key] = value
    return out


_ASCII_NUMBER = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?", re.ASCII)


def _number(value: Any) -> float | int | None:
    """The number a setting's value spells (None if it is not a finite number)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        if not _ASCII_NUMBER.fullmatch(value):  # float() also reads '１２', '٣', '1_0' and ' 7 '
            return None
        try:
            v = float(value)
        except ValueError:
            return None
        if not math.isfinite(v):
            return None
        return int(v) if v.is_integer() and "." not in value and "e" not in value.lower() else v
    return None


def _levers(doc: dict[str, Any]) -> dict[str, Any]:
    levers = doc.get("levers")
    return levers if isinstance(levers, dict) else {}


def known_names(doc: dict[str, Any], spec: dict[str, Any] | None = None) -> list[str]:
    """Every name a setting may take on this document: its levers and every parameter path."""
    spec = spec or load_catalog()
    names = list(_levers(doc)) + [f"levers.{n}" for n in _levers(doc)]
    names += numeric_paths(spec)
    names += [f"constraints.{c}.lifted" for c in spec["constraints"]]
    return names


def check_settings(settings: Any, source: str = "overrides") -> None:
    """Settings are ``None`` or a mapping of names to an option, a number or true/false (InputError otherwise).

    The one shape check for ``--set`` (parsed into such a mapping), ``overrides=`` of the Python
    API and the app, so a list or a nested value is a sentence naming it, not an AttributeError.
    """
    if settings is None:
        return
    example = "{'us_restraint': 'firm', 'world.temperature': 0.1}"
    if not isinstance(settings, dict):
        raise InputError.one(
            source, f"expected a mapping of names to values such as {example}, found {_kind(settings)}"
        )
    issues = [
        InputIssue(f"{source} {key!r:.60}", None, None, "", f"expected a name (text), found {_kind(key)}")
        for key in settings
        if not isinstance(key, str)
    ]
    issues += [
        InputIssue(
            flag_label(source, key, "..."),
            None,
            None,
            "",
            f"expected an option, a number or true/false, found {_kind(v)}",
        )
        for key, v in settings.items()
        if isinstance(key, str) and not isinstance(v, str | int | float | bool)
    ]
    if issues:
        raise InputError(issues)


def _kind(value: Any) -> str:
    return f"{type(value).__name__} {value!r:.40}"


def apply_settings(
    doc: dict[str, Any],
    marks: dict,
    settings: dict[str, Setting],
    source: str = "--set",
) -> tuple[dict[str, Any], dict]:
    """The document with ``settings`` applied (a copy) and marks that locate each at its flag.

    Raises InputError (one issue per bad setting, all at once) for an unknown lever, option or
    path, and for a value that is not a number where a number is needed; ranges and the rest
    are checked by ``compile_document`` and reported at the flag through the returned marks.

    Args:
        doc: the merged scenario document (``load_document``), levers not yet applied.
        marks: where each key of ``doc`` was written (file, line, column).
        settings: ``{lever: option}``, ``{"levers.<lever>": option}``, ``{path: number}``.
        source: how the settings are named in messages (``--set``, ``--vary``, ``overrides``).
    """
    doc = copy.deepcopy(doc)
    marks = dict(marks)
    spec = load_catalog()
    levers = _levers(doc)
    paths = set(numeric_paths(spec))
    issues: list[InputIssue] = []
    recorded: dict[str, Setting] = {}
    for key, value in settings.items():
        where = flag_label(source, key, value)
        if not isinstance(key, str) or not key:
            problem: str | None = "a setting needs a name"
        elif key.startswith("levers.") or (key in levers and "." not in key):
            problem = _choose_option(doc, marks, levers, key.removeprefix("levers."), value, where, recorded)
        elif _is_constraint_lift(key):
            problem = _lift_constraint(doc, marks, spec, key, value, where, recorded)
        else:
            problem = _fix_parameter(doc, marks, spec, paths, key, value, where, recorded)
        if problem is not None:
            issues.append(InputIssue(where, None, None, "", problem))
    if issues:
        raise InputError(issues)
    if recorded:
        doc[SETTINGS_KEY] = {**(doc.get(SETTINGS_KEY) or {}), **recorded}
    return doc, marks


def _choose_option(
    doc: dict[str, Any],
    marks: dict,
    levers: dict[str, Any],
    name: str,
    value: Setting,
    where: str,
    recorded: dict[str, Setting],
) -> str | None:
    """Pick a lever's option (its ``value:``); the problem with the setting, or None once applied.

    A lever that is itself malformed is passed over here: compiling reports it at its line.
    """
    if name not in levers:
        if levers:
            hint = did_you_mean(name, list(levers)) or f" (its levers: {', '.join(map(str, levers))})"
        else:
            hint = " (the scenario declares no levers)"
        return f"unknown lever '{name}'{hint}"
    lever = levers[name]
    options = lever.get("options") if isinstance(lever, dict) else None
    if not isinstance(options, dict) or not options:
        return None  # the lever itself is malformed: compiling reports it at its line
    chosen = next((o for o in options if str(o) == _text(value)), None)
    if chosen is None:
        hint = did_you_mean(_text(value), [str(o) for o in options]) or (
            f" (options: {', '.join(str(o) for o in options)})"
        )
        return f"unknown option '{_text(value)}' of lever '{name}'{hint}"
    doc["levers"][name] = {**lever, "value": chosen}
    marks[("levers", name, "value")] = (where, None, None)
    recorded[f"levers.{name}"] = str(chosen)
    return None


def _is_constraint_lift(key: str) -> bool:
    """Whether a setting's name is ``constraints.<ID>.lifted``."""
    parts = key.split(".")
    return len(parts) == 3 and parts[0] == "constraints" and parts[2] == "lifted"


def _lift_constraint(
    doc: dict[str, Any],
    marks: dict,
    spec: dict[str, Any],
    key: str,
    value: Setting,
    where: str,
    recorded: dict[str, Setting],
) -> str | None:
    """Lift or restore a constraint (``constraints.<ID>.lifted``); the problem, or None once applied."""
    cid = key.split(".")[1]
    if cid not in spec["constraints"]:
        return f"unknown constraint '{cid}'{did_you_mean(cid, list(spec['constraints']))}"
    flag = value if isinstance(value, bool) else TRUE_WORDS.get(str(value).lower())
    if flag is None:
        return f"expected true or false, found '{_text(value)}'"
    section = doc.setdefault("constraints", {})
    if isinstance(section, dict):
        entry = section.get(cid)
        section[cid] = {**(entry if isinstance(entry, dict) else {}), "lifted": flag}
        marks[("constraints", cid, "lifted")] = (where, None, None)
    recorded[key] = flag
    return None


def _fix_parameter(
    doc: dict[str, Any],
    marks: dict,
    spec: dict[str, Any],
    paths: set[str],
    key: str,
    value: Setting,
    where: str,
    recorded: dict[str, Setting],
) -> str | None:
    """Fix a parameter path to a number, as a ``constants:`` entry; the problem, or None once applied.

    A path the scenario samples is fixed instead of sampled; the other paths keep their draws
    (draws are keyed by path: common random numbers).
    """
    if key not in paths:
        return _unknown(key, doc, spec)
    number = _number(value)
    if number is None:
        return f"expected a number for {key}, found '{_text(value)}'"
    constants = doc.setdefault("constants", {})
    if not isinstance(constants, dict):
        return None  # reported at the file's constants: line by compiling
    constants[key] = number
    marks[("constants", key)] = (where, None, None)
    uncertain = doc.get("uncertainties")
    if isinstance(uncertain, dict) and key in uncertain:
        del uncertain[key]  # fixed, not sampled: the other paths keep their draws
    recorded[key] = number
    return None


def _unknown(key: str, doc: dict[str, Any], spec: dict[str, Any]) -> str:
    if key.startswith("relations.") and (owner := _owned_relation(spec, key.removeprefix("relations."))):
        return f"'{key}' cannot be set: {owner}"
    names = known_names(doc, spec)
    hint = did_you_mean(key, names)
    if not hint and "." not in key:
        levers = list(_levers(doc))
        hint = f" (its levers: {', '.join(levers)})" if levers else " (the scenario declares no levers)"
        hint += "; a parameter is set by its path, e.g. world.temperature (docs/scenarios.md)"
    what = "lever or parameter path" if "." not in key else "parameter path"
    return f"unknown {what} '{key}'{hint}"


def compile_with_settings(
    doc: dict[str, Any], marks: dict, file: str, settings: dict[str, Setting] | None, source: str = "--set"
) -> Scenario:
    """Apply ``settings`` and compile: a Scenario whose resolved document records them.

    Problems with a setting's value (out of range, breaking a relation between parameters)
    come back as ``--set path=value: message``, without the file's key path.
    """
    check_settings(settings, source)
    if settings:
        doc, marks = apply_settings(doc, marks, settings, source)
    try:
        return compile_document(doc, marks, file)
    except InputError as exc:
        prefix = f"{source} "
        raise InputError(
            [InputIssue(i.file, None, None, "", i.message) if i.file.startswith(prefix) else i for i in exc.issues]
        ) from None


def check_exists(path: str | Path) -> None:
    """A scenario file that does not exist gets a did-you-mean among the shipped scenarios too.

    ``entente run baseline`` (a name) points at ``scenarios/baseline.yaml``; a misspelt path is
    compared with the files beside it and with the shipped scenarios' names.
    """
    p = Path(path)
    try:
        if p.exists():
            return
    except (OSError, ValueError):
        return  # reported by the loader
    ships = shipped()
    by_stem = {q.stem: q for q in ships}
    stem = p.name.removesuffix(".yaml").removesuffix(".yml")
    if stem in by_stem:
        guess = by_stem[stem]
    else:
        here = [q for q in p.parent.glob("*.y*ml")] if p.parent.is_dir() else []
        names = {q.name: q for q in here} | {q.name: q for q in ships}
        hint = did_you_mean(p.name if p.suffix else f"{p.name}.yaml", list(names))
        guess = names[hint.split("'")[1]] if hint else None
    if guess is not None:
        try:
            shown = guess.relative_to(Path.cwd())
        except ValueError:
            shown = guess
        raise InputError.one(str(path), f"no such scenario file; did you mean '{shown}'?", 1, 1)


def load_with_settings(path: str | Path, settings: dict[str, Setting] | None = None, source: str = "--set") -> Scenario:
    """Load, merge, apply ``settings`` to and compile a scenario file (InputError on any problem)."""
    check_settings(settings, source)
    if not isinstance(path, str | Path) or not str(path):
        raise InputError.one(source, f"expected a scenario file's path, found {_kind(path)}")
    check_exists(path)
    doc, marks, chain = load_document(path)
    sc = compile_with_settings(doc, marks, str(path), settings, source)
    sc.chain = chain
    return sc


MAX_SWEEP_VALUES = 101


def path_label(spec: dict[str, Any], path: str) -> tuple[str, str]:
    """A plain-English label and unit for a parameter path (for axes and reports)."""
    parts = path.split(".")
    head = parts[0]
    if head == "world" and len(parts) == 2:
        d = spec["world"]["parameters"].get(parts[1], {})
        return label(spec, "parameter", parts[1]), str(d.get("unit", ""))
    if head == "initial":
        name = path.removeprefix("initial.")
        d = spec["world"]["variables"].get(name, {})
        return f"{label(spec, 'variable', name)} at the start", str(d.get("unit", ""))
    if head == "relations" and len(parts) == 2:
        a, _, b = parts[1].partition("-")
        return f"{label(spec, 'actor', a)}-{label(spec, 'actor', b)} relation at the start", "-1 to 1"
    if head == "constraints" and len(parts) == 3:
        return f"{label(spec, 'constraint', parts[1])}: {parts[2].replace('_', ' ')}", ""
    if head == "actors" and len(parts) >= 3:
        who = label(spec, "actor", parts[1])
        if parts[2] == "interests" and len(parts) == 5:
            return f"{who}: {parts[4]} of its interest in {parts[3].replace('_', ' ')}", ""
        if parts[2] == "stances" and len(parts) == 4:
            return f"{who}: stance on {parts[3].replace('_', ' ')}", "-1 to 1"
        if parts[2] == "response":
            return f"{who}: response to grievances", ""
        if parts[2] == "initial_grievance" and len(parts) == 4:
            return f"{who}: grievance against {label(spec, 'actor', parts[3])} at the start", ""
    return path, ""


def parse_vary(text: str, source: str = "--vary") -> tuple[str, list[float]]:
    """``path=low:high:n`` as the path and n evenly spaced values from low to high (both included)."""
    where = f"{source} {text}"
    path, eq, spec_ = text.partition("=")
    parts = spec_.split(":")
    if not eq or not path.strip() or len(parts) != 3:
        raise InputError.one(where, "expected PATH=LOW:HIGH:N, e.g. world.temperature=0.02:0.2:7")
    low, high = _number(parts[0].strip()), _number(parts[1].strip())
    count = parts[2].strip()
    n = int(count) if count.isascii() and count.isdigit() and len(count) < 6 else 0
    if low is None or high is None:
        raise InputError.one(where, "LOW and HIGH must be numbers")
    if not 2 <= n <= MAX_SWEEP_VALUES:
        raise InputError.one(where, f"N must be a whole number from 2 to {MAX_SWEEP_VALUES}")
    if not low < high:
        raise InputError.one(where, f"LOW must be below HIGH, found {low} and {high}")
    step = (float(high) - float(low)) / (n - 1)
    values = [round(float(low) + i * step, 12) for i in range(n)]
    if len(set(values)) < n:  # values are recorded to 12 decimals: the runs would be identical
        raise InputError.one(
            where,
            f"the {n} values from {low} to {high} are not distinct to 12 decimals (the precision a run records);"
            " widen the range or ask for fewer values",
        )
    return path.strip(), values


def sweep_axis(sc: Any, lever: str | None = None, vary: list[str] | None = None) -> dict[str, Any]:
    """What a sweep varies: a lever's options or a path's values, labelled, with the scenario's own value.

    Returns plain data (the sweep report sits in the analysis layer and reads it from a file):
    ``name`` (the --set key), ``kind`` (lever or path), ``label``, ``unit``, ``values``,
    ``reference`` (the scenario's own option or value when it is among them, else the first),
    ``doc``. Unknown levers and paths get a did-you-mean; values are validated by compiling.
    """
    vary = list(vary or [])
    if bool(lever) == bool(vary):
        raise InputError.one("command line", "give one of --lever NAME or --vary PATH=LOW:HIGH:N")
    if len(vary) > 1:
        raise InputError.one(
            f"--vary {vary[1]}",
            "a sweep varies one thing (for a grid, run one sweep per value of the other with --set, "
            "or use entente sensitivity --method sobol)",
        )
    doc = sc.document if sc.document is not None else sc.resolved
    spec = sc.config.spec
    if lever:
        name = lever.removeprefix("levers.")
        levers = _levers(doc)
        if name not in levers:
            hint = did_you_mean(name, list(levers)) or (
                f" (its levers: {', '.join(map(str, levers))})" if levers else " (the scenario declares no levers)"
            )
            raise InputError.one(f"--lever {lever}", f"unknown lever '{name}'{hint}")
        options = [str(o) for o in (levers[name].get("options") or {})]
        chosen = str(sc.resolved.get("levers_chosen", {}).get(name, options[0] if options else ""))
        return {
            "name": f"levers.{name}",
            "kind": "lever",
            "label": str(levers[name].get("label") or name.replace("_", " ")),
            "unit": "option",
            "values": options,
            "reference": chosen if chosen in options else options[0],
            "doc": str(levers[name].get("doc", "")).strip().rstrip("."),
        }
    path, values = parse_vary(vary[0])
    if path not in set(numeric_paths(spec)):
        raise InputError.one(f"--vary {vary[0]}", _unknown(path, doc, spec))
    text, unit = path_label(spec, path)
    own = get_value(spec, path)
    own_v = float(own) if isinstance(own, int | float) and not isinstance(own, bool) else None
    ref = next((v for v in values if own_v is not None and abs(v - own_v) < 1e-9), values[0])
    sampled = any(u.path == path for u in sc.config.uncertainties)
    return {
        "name": path,
        "kind": "path",
        "label": text,
        "unit": unit,
        "values": values,
        "reference": ref,
        "doc": "The scenario's own value: "
        + ("sampled per replicate" if sampled else "n/a" if own_v is None else f"{own_v:g}"),
    }
