"""Levers: a scenario's named policy choices, each merged onto the document before it is checked.

Why before: a lever's chosen option sets the same sections a file does (constants, actors,
events, ...), so merging it first means its values pass exactly the checks a value written in
the file passes, and its mistakes are reported at the option's own line.
"""

from __future__ import annotations

from typing import Any

from model.safeyaml import type_name
from model.scenario.check import _Checker, _short
from model.scenario.format import LEVER_KEYS, SETTING_KEYS
from model.scenario.read import _merge


def _prefix_index(marks: dict, head: str, depth: int) -> dict[tuple, list[tuple]]:
    """Marks keys under ``(head, ...)`` grouped by their first ``depth`` parts (one pass)."""
    out: dict[tuple, list[tuple]] = {}
    for k in marks:
        if len(k) > depth and k[0] == head:
            out.setdefault(k[:depth], []).append(k)
    return out


def _apply_levers(ck: _Checker, doc: dict[str, Any], marks: dict) -> dict[str, str]:
    """Merge each lever's chosen option onto the document; return the choices."""
    chosen_all: dict[str, str] = {}
    levers = doc.get("levers", {})
    if not ck.expect(("levers",), levers, (dict,), "a mapping of lever names"):
        return chosen_all
    lever_marks = _prefix_index(marks, "levers", 5)
    for lname, lever in levers.items():
        lp = ("levers", lname)
        if not ck.expect(lp, lever, (dict,), "a mapping with 'value' and 'options'"):
            continue
        for k in lever:
            if k not in ("value", "options", "doc", "label"):
                ck.bad(
                    (*lp, k),
                    f"unknown key '{_short(k)}'{ck.suggest(k, LEVER_KEYS)}; expected value, options, doc, label",
                )
        for k in ("doc", "label"):
            if k in lever and not isinstance(lever[k], str):
                ck.bad((*lp, k), f"expected text, found {type_name(lever[k])}")
        if "options" not in lever:
            ck.bad(lp, "a lever needs 'options' (a mapping of option names to settings)")
            continue
        options = lever["options"]
        if not ck.expect((*lp, "options"), options, (dict,), "a mapping of option names to settings"):
            continue
        if not options:
            ck.bad((*lp, "options"), "a lever needs at least one option")
            continue
        for oname, setting in options.items():
            op = (*lp, "options", oname)
            if ck.expect(op, setting, (dict,), "a mapping of settings"):
                for k in setting:
                    if k not in SETTING_KEYS:
                        ck.bad((*op, k), f"a lever option may not set '{_short(k)}' (only {', '.join(SETTING_KEYS)})")
        chosen = lever.get("value", next(iter(options)))
        if not ck.name((*lp, "value"), chosen, options, "option"):
            continue
        chosen_all[lname] = chosen
        setting = options[chosen]
        if not isinstance(setting, dict):
            continue
        op = (*lp, "options", chosen)
        for k, v in setting.items():
            if k not in SETTING_KEYS:
                continue
            if k == "events":
                if not ck.expect((*op, k), v, (list,), "a list of events"):
                    continue
                existing = doc.get("events", [])
                if not isinstance(existing, list):
                    continue  # reported with the events section
                base = len(existing)
                for i in range(len(v)):
                    ck.aliases[("events", base + i)] = (*op, k, i)
                doc["events"] = [*existing, *v]
            elif not ck.expect((*op, k), v, (dict,), f"a mapping (as for '{k}:')"):
                continue
            else:
                current = doc.get(k, {})
                if not isinstance(current, dict):
                    continue  # reported with that section
                for mk in lever_marks.get((*op, k), []):
                    marks[(k, *mk[len(op) + 1 :])] = marks[mk]
                doc[k] = _merge(current, v, {}, {})
    return chosen_all
