"""Readable timelines built from decision records and templates (no language model).

Pure: it reads decision records (decisions.jsonl, or those explain re-simulates) and the
run manifest's dictionary of actions, actors, constraints and claims, with the catalog's
reporting roles (``reporting.yaml``: the major actors, the status variables). It never imports
the engine, so analysis can call it on any run folder.

Three rules keep a story readable. A move repeated week after week (a war the US keeps
fighting, a constraint that holds Iran back every week) is told once, with how long it lasted,
and its end is told when the actor stops. A strike and a ceasefire decided in the same week
are said to be simultaneous (moves are decided at the same moment on the same state), never
listed as if one came first. "Out of character" marks only a move the actor's own logit model
gave a low probability (a tremble that picked something unlikely), not a routine one.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

WAR_STATES = ["no war", "an exchange of strikes", "sustained war", "a ceasefire"]


@functools.lru_cache(maxsize=1)
def _catalog() -> dict[str, Any]:
    from model.catalog import load_catalog

    return load_catalog()


def _label(meta: dict[str, Any], actor: str) -> str:
    return meta["actors"].get(actor, {}).get("label", actor)


def _phrase(meta: dict[str, Any], action: str, target: str) -> str:
    tmpl = meta["actions"].get(action, {}).get("narrate") or action.replace("_", " ")
    return tmpl.replace("{target}", _label(meta, target) if target != "none" else "")


def _constraint(cid: str) -> str:
    """The constraint's plain-English label from the catalog glossary (the id when it has none)."""
    from model.catalog.glossary import label

    return label(_catalog(), "constraint", cid)


def _claims(cons: list[dict[str, Any]]) -> str:
    ids = sorted({c for con in cons for c in con["claims"]})
    return ", ".join(ids)


def _when(meta: dict[str, Any], step: int, inline: bool = False) -> str:
    """A step as a date: "Week 4 (11 Nov 2024)" as a heading, "week 4, 11 Nov 2024" inside a sentence (``inline``)."""
    days = meta["step_days"] * step
    weeks = days / 7.0
    label = f"Week {weeks:g}" if abs(weeks - round(weeks)) < 1e-9 else f"Day {days:g}"
    if meta.get("start_date"):
        date = dt.date.fromisoformat(meta["start_date"]) + dt.timedelta(days=days)
        label += f", {date:%d %b %Y}" if inline else f" ({date:%d %b %Y})"
    return label if not inline else label.replace("Week", "week").replace("Day", "day")


def _major() -> tuple[str, ...]:
    from model.catalog.reporting import major_actors

    return tuple(major_actors(_catalog()))


def _hold() -> str:
    from model.catalog.reporting import hold_action

    return hold_action(_catalog())


def is_notable(rec: dict[str, Any], meta: dict[str, Any]) -> bool:
    """Worth a sentence: an event, a constraint that bound, a major actor acting, or a rung >= 4."""
    if rec["forced"] or rec["bound"]:
        return True
    if rec["action"] == _hold():
        return False
    rung = meta["actions"].get(rec["action"], {}).get("kahn_rung", 0)
    return rec["actor"] in _major() or rung >= 4


def out_of_character(rec: dict[str, Any]) -> bool:
    """A tremble that picked a move its actor's logit model gave little chance (reporting.yaml sets how little)."""
    from model.catalog.reporting import out_of_character_below

    p = rec.get("probability")
    return bool(rec.get("trembled")) and p is not None and float(p) < out_of_character_below(_catalog())


def sentence(rec: dict[str, Any], meta: dict[str, Any]) -> str:
    """One sentence for one decision, naming the constraint and claims that bound it."""
    who = _label(meta, rec["actor"])
    text = f"{who} {_phrase(meta, rec['action'], rec['target'])}".rstrip()
    if rec["forced"]:
        event = rec.get("event")
        text += f" (scheduled: {event})" if event and event not in ("event", "scheduled event") else " (scheduled)"
    elif out_of_character(rec):
        text += f" (out of character: its own model gave this move a {float(rec['probability']):.0%} chance)"
    if rec.get("event_blocked"):
        text += "; a scheduled action was blocked by its constraints"
    pref = rec.get("preferred")
    if pref and rec["bound"]:
        names = ", ".join(f"'{_constraint(c['constraint'])}' ({c['constraint']}, {c['kind']})" for c in rec["bound"])
        text += f"; it would have {_phrase(meta, pref['action'], pref['target'])}, but {names} stopped it ({_claims(rec['bound'])})"
    return text + "."


def _signature(rec: dict[str, Any]) -> tuple[Any, ...]:
    """What makes two weeks' decisions of one unit the same story (whether imposed or chosen)."""
    pref = rec.get("preferred") or {}
    return (
        rec["action"],
        rec["target"],
        pref.get("action"),
        pref.get("target"),
        tuple(sorted(c["constraint"] for c in rec.get("bound") or [])),
    )


def standing_runs(records: list[dict[str, Any]], meta: dict[str, Any]) -> dict[tuple[int, str, str], tuple[int, int]]:
    """Moves a unit repeats week after week: {(step, actor, track) of the first week: (last step, weeks)}.

    A run is the same notable decision (action, target, what a constraint stopped) in consecutive
    decisions of one unit (an actor on a track); idle steps (no decision due, at fine steps) do
    not break it. Runs of one decision are not listed.
    """
    by_unit: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in sorted(records, key=lambda r: r["step"]):
        if not r.get("idle"):
            by_unit.setdefault((r["actor"], r.get("track", "")), []).append(r)
    out = {}
    for (actor, track), recs in by_unit.items():
        i = 0
        while i < len(recs):
            j = i
            if is_notable(recs[i], meta):
                while (
                    j + 1 < len(recs)
                    and is_notable(recs[j + 1], meta)
                    and _signature(recs[j + 1]) == _signature(recs[i])
                ):
                    j += 1
            if j > i:
                out[(recs[i]["step"], actor, track)] = (recs[j]["step"], j - i + 1)
            i = j + 1
    return out


def _standing(rec: dict[str, Any], weeks: int, meta: dict[str, Any]) -> bool:
    """A run whose end is worth telling: a move up the ladder (rung 4 or more) kept up, or any move kept up a month."""
    if rec["action"] == _hold():
        return False
    rung = meta["actions"].get(rec["action"], {}).get("kahn_rung", 0)
    return (rung >= 4 and weeks >= 2) or weeks >= 4


def _status(meta: dict[str, Any], state: dict[str, Any], names: list[str]) -> str:
    """Where the world stands, in words: "Escalation index 5.1 of 10, Brent crude price 81 USD/bbl, ..."."""
    from model.catalog.glossary import label
    from model.catalog.reporting import war_variable

    spec = _catalog()
    war = war_variable(spec)
    states = meta.get("war_states") or WAR_STATES
    parts = []
    for v in names:
        if v not in state:
            continue
        x = float(state[v])
        name = label(spec, "variable", v)
        unit = str(meta.get("variables", {}).get(v, {}).get("unit", ""))
        if v == war:
            word = states[int(round(x))] if 0 <= round(x) < len(states) else f"{x:g}"
            parts.append(f"{name}: {'no war' if word == 'none' else word}")
        elif unit.startswith("index ") and "-" in unit:
            parts.append(f"{name} {x:.1f} of {unit.rsplit('-', 1)[1]}")
        else:
            parts.append(f"{name} {x:.3g} {unit}".rstrip())
    return ", ".join(parts)


def _flags(action: str) -> dict[str, Any]:
    return _catalog()["actions"].get(action, {}) or {}


def _simultaneous(recs: list[dict[str, Any]], meta: dict[str, Any], explained: bool = False) -> str:
    """A sentence when a strike and a ceasefire between the same two parties were decided in the same week.

    Only a ceasefire and a strike between the same pair are told (a Houthi truce offer beside an Israeli
    strike on Iran is not news); the why (every move of a week is decided on the same state) is said the
    first time, ``explained`` after that, so a long war does not repeat it every week.
    """
    strikes = [r for r in recs if _flags(r["action"]).get("strike") or _flags(r["action"]).get("direct_strike")]
    ceasefires = [r for r in recs if _flags(r["action"]).get("ceasefire")]
    pairs = {frozenset((r["actor"], r.get("target"))) for r in ceasefires}
    strikes = [r for r in strikes if frozenset((r["actor"], r.get("target"))) in pairs]
    if not strikes:
        return ""
    hit = {frozenset((r["actor"], r.get("target"))) for r in strikes}
    ceasefires = [r for r in ceasefires if frozenset((r["actor"], r.get("target"))) in hit]
    who = " and ".join(dict.fromkeys(_label(meta, r["actor"]) for r in ceasefires))
    striker = " and ".join(dict.fromkeys(_label(meta, r["actor"]) for r in strikes))
    if explained:
        return f" Again the ceasefire ({who}) and the strike ({striker}) were decided in the same week."
    return (
        f" Neither came first: the ceasefire ({who}) and the strike ({striker}) were decided at the same moment, on the"
        " same state (every move of a week is decided simultaneously), so the ceasefire did not stop this week's strike."
    )


def narrate(
    records: list[dict[str, Any]],
    meta: dict[str, Any],
    replicate: int | None = None,
    final_state: dict[str, float] | None = None,
) -> str:
    """A week-by-week story of one replicate, in prose.

    Where the world stands is told at the first week and then every few weeks (reporting.yaml),
    at the week's end: the next week's records hold that state; ``final_state`` gives it for the
    last week (without it, the last week states none). A change of the war state is told when it
    happens.
    """
    from model.catalog.reporting import status_every, variables, war_variable

    if replicate is not None:
        records = [r for r in records if r["replicate"] == replicate]
    if not records:
        return "(no decision records)\n"
    spec = _catalog()
    status_vars = variables(spec, "narrative_status")
    war = war_variable(spec)
    states = meta.get("war_states") or WAR_STATES
    every = max(1, status_every(spec))
    steps = sorted({r["step"] for r in records})
    by_step = {s: [r for r in records if r["step"] == s] for s in steps}
    runs = standing_runs(records, meta)
    covered: dict[tuple[str, str], int] = {}  # unit -> last step of the run being told
    ended: dict[int, list[str]] = {}
    explained = False  # the simultaneity of a ceasefire and a strike, explained once
    order = {a: i for i, a in enumerate(_major())}
    lines = [f"## Replicate {records[0]['replicate']}", ""]
    for k, step in enumerate(steps):
        recs = by_step[step]
        told = []
        for r in sorted(
            (r for r in recs if is_notable(r, meta)), key=lambda r: (not r["forced"], order.get(r["actor"], 9))
        ):
            unit = (r["actor"], r.get("track", ""))
            if covered.get(unit, -1) >= step:
                continue  # told with its run's first week
            text = sentence(r, meta)
            run = runs.get((step, *unit))
            if run:
                last, n = run
                covered[unit] = last
                until = "to the horizon" if last == steps[-1] else f"until {_when(meta, last, True)}"
                again = (
                    " — and again the next week." if n == 2 else f" — and again every week {until} ({n} weeks in all)."
                )
                text = text[:-1] + again
                if last != steps[-1] and _standing(r, n, meta):
                    nxt = next((s for s in steps if s > last), None)
                    if nxt is not None:
                        ended.setdefault(nxt, []).append(
                            f"{_label(meta, r['actor'])} stopped: it had {_phrase(meta, r['action'], r['target'])}"
                            f" every week since {_when(meta, step, True)}."
                        )
            told.append(text)
        body = " ".join([*ended.get(step, []), *told]) or "Nothing beyond routine statements."
        same = _simultaneous([r for r in recs if is_notable(r, meta)], meta, explained)
        explained = explained or bool(same)
        body += same
        after = by_step[steps[k + 1]][0]["state"] if k + 1 < len(steps) else final_state
        before = recs[0]["state"]
        if after and war in after and war in before and int(round(after[war])) != int(round(before[war])):
            now = states[int(round(after[war]))]
            body += f" The war state changed to {'no war' if now == 'none' else now}."
        if after and (k == 0 or step % every == 0):
            body += f" By the week's end: {_status(meta, after, status_vars)}."
        lines.append(f"**{_when(meta, step)}.** {body}")
        lines.append("")
    return "\n".join(lines)
