"""The same scenario with run values, settings or its policy replaced, compiled again.

Every variant goes back through the scenario compiler, exactly as a file does, so whatever
runs is validated, recorded whole in the manifest, and can be resumed and re-run.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from typing import Any

from model.errors import InputError, InputIssue
from model.execution.options import COMMAND_LINE, int_issue
from model.scenario import MAX_HORIZON, MAX_REPLICATES, Scenario, compile_document
from model.scenario.questions import beyond
from model.scenario.settings import check_settings, compile_with_settings

SEED_LIMIT = 2**64  # seeds are 64-bit; the scenario file may be stricter (then its limit applies)
OPTION_OF = {"seed": "--seed", "horizon": "--steps", "replicates": "--replicates"}


def _step_of(event: Any, start: Any, step_days: Any) -> int | None:
    """The step of a scheduled event (None when it is conditional or malformed: compiling reports that)."""
    if not isinstance(event, dict) or "at" not in event:
        return None
    at = event["at"]
    if isinstance(at, int) and not isinstance(at, bool):
        return at
    try:
        d = dt.date.fromisoformat(str(at))
        s = dt.date.fromisoformat(str(start))
        return max(1, math.ceil((d - s).days / float(step_days)))
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None


def apply_overrides(
    sc: Scenario,
    replicates: int | None = None,
    seed: int | None = None,
    steps: int | None = None,
    source: str = COMMAND_LINE,
) -> Scenario:
    """The scenario with replicates, seed or steps replaced, validated exactly as the file's own values.

    The resolved document with the new values is compiled again (the same validation a scenario
    file and a manifest go through), so whatever runs can be resumed and re-run. A shorter
    horizon drops the scheduled events after it, in the recorded document too.
    """
    if replicates is None and seed is None and steps is None:
        return sc
    issues = [
        i
        for i in (
            int_issue(source, OPTION_OF["replicates"], replicates, 1, MAX_REPLICATES)
            if replicates is not None
            else None,
            int_issue(source, OPTION_OF["horizon"], steps, 1, MAX_HORIZON, " (the scenario format's limit)")
            if steps is not None
            else None,
        )
        if i is not None
    ]
    if seed is not None and not (isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed < SEED_LIMIT):
        issues.append(InputIssue(source, None, None, OPTION_OF["seed"], f"must lie in [0, 2^64), found {seed}"))
    if issues:
        raise InputError(issues)
    doc = _with_run_values(sc.resolved, replicates, seed, steps)
    levers = doc.pop("levers_chosen", {})
    try:
        new = compile_document(doc, {}, source)
    except InputError as exc:
        raise InputError(
            [
                InputIssue(source, None, None, OPTION_OF[i.key], i.message) if i.key in OPTION_OF else i
                for i in exc.issues
            ]
        ) from None
    new.resolved["levers_chosen"] = levers
    new.chain, new.source = list(sc.chain), sc.source
    if sc.document is not None:  # settings applied later (sweeps, overrides) keep these run values
        new.document, new.marks = _with_run_values(sc.document, replicates, seed, steps), sc.marks
    return new


def _with_run_values(
    document: dict[str, Any], replicates: int | None, seed: int | None, steps: int | None
) -> dict[str, Any]:
    """A copy of a scenario document with run values replaced; what falls after a shorter horizon leaves it."""
    doc = copy.deepcopy(document)
    if replicates is not None:
        doc["replicates"] = replicates
    if seed is not None:
        doc["seed"] = seed
    if steps is not None:
        doc["horizon"] = steps
        for key in ("events", "changes"):
            if isinstance(doc.get(key), list) and isinstance(steps, int):
                doc[key] = [
                    e
                    for e in doc[key]
                    if (k := _step_of(e, doc.get("start_date"), doc.get("step_days", 7))) is None or k <= steps
                ]
        if isinstance(doc.get("questions"), list) and isinstance(steps, int):  # dated beyond: dropped like events
            try:
                end = steps * float(doc.get("step_days", 7))
            except (TypeError, ValueError):
                end = None
            if end is not None:
                gone = set(beyond(doc["questions"], doc.get("start_date"), end))
                doc["questions"] = [q for i, q in enumerate(doc["questions"]) if i not in gone]
    return doc


def with_policy(sc: Scenario, policy: str) -> Scenario:
    """The same scenario decided by another policy: ``inert`` or ``hawk`` (the negative controls) or ``model``.

    The policy is written into the resolved document (``policy:``) and compiled again, so it is
    part of the scenario's digest and manifest: a control's run is cached, reused and re-run
    like any other, beside the model's run of the same scenario, with the same seed and
    replicates (common random numbers).
    """
    doc = copy.deepcopy(sc.resolved)
    levers = doc.pop("levers_chosen", {})
    if policy == "model":
        doc.pop("policy", None)
    else:
        doc["policy"] = policy
    new = compile_document(doc, {}, f"{sc.source} (policy {policy})")
    new.resolved["levers_chosen"] = levers
    new.chain, new.source = list(sc.chain), sc.source
    return new


def with_settings(sc: Scenario, settings: dict[str, Any] | None, source: str = "--set") -> Scenario:
    """``sc`` with more settings (levers, parameter paths) applied, validated like the file.

    The settings are applied to the scenario's document before its levers, so a lever option
    and a parameter path are set exactly as ``entente run --set`` sets them; the run values
    (replicates, seed, steps) already given stay.
    """
    check_settings(settings, source)
    if not settings:
        return sc
    if sc.document is not None:
        doc, marks = sc.document, sc.marks
    else:  # a scenario rebuilt from a manifest: its levers are already applied
        doc = {k: v for k, v in sc.resolved.items() if k != "levers_chosen"}
        marks = {}
    new = compile_with_settings(doc, marks, sc.source, settings, source)
    new.chain = list(sc.chain)
    if sc.document is None:
        new.resolved["levers_chosen"] = dict(sc.resolved.get("levers_chosen", {}))
    return new
