"""Readable timelines built from decision records and templates (no language model).

Pure: it reads decision records (decisions.jsonl, or those explain re-simulates) and the
run manifest's dictionary of actions, actors, constraints and claims. It never imports
the engine, so analysis can call it on any run folder.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

MAJOR = ("israel", "iran", "usa", "russia")
WAR_STATES = ["no war", "an exchange of strikes", "sustained war", "a ceasefire"]


def _label(meta: dict[str, Any], actor: str) -> str:
    return meta["actors"].get(actor, {}).get("label", actor)


def _phrase(meta: dict[str, Any], action: str, target: str) -> str:
    tmpl = meta["actions"].get(action, {}).get("narrate") or action.replace("_", " ")
    return tmpl.replace("{target}", _label(meta, target) if target != "none" else "")


@functools.lru_cache(maxsize=1)
def _constraint_labels() -> dict[str, str]:
    from model.catalog import load_catalog
    from model.catalog.glossary import label

    spec = load_catalog()
    return {cid: label(spec, "constraint", cid) for cid in spec["constraints"]}


def _constraint(cid: str) -> str:
    """The constraint's plain-English label from the catalog glossary (the id when it has none)."""
    return _constraint_labels().get(cid, cid)


def _claims(cons: list[dict[str, Any]]) -> str:
    ids = sorted({c for con in cons for c in con["claims"]})
    return ", ".join(ids)


def _when(meta: dict[str, Any], step: int) -> str:
    days = meta["step_days"] * step
    weeks = days / 7.0
    label = f"Week {weeks:g}" if abs(weeks - round(weeks)) < 1e-9 else f"Day {days:g}"
    if meta.get("start_date"):
        date = dt.date.fromisoformat(meta["start_date"]) + dt.timedelta(days=days)
        label += f" ({date:%d %b %Y})"
    return label


def is_notable(rec: dict[str, Any], meta: dict[str, Any]) -> bool:
    """Worth a sentence: an event, a constraint that bound, a major actor acting, or a rung >= 4."""
    if rec["forced"] or rec["bound"]:
        return True
    if rec["action"] == "hold":
        return False
    rung = meta["actions"].get(rec["action"], {}).get("kahn_rung", 0)
    return rec["actor"] in MAJOR or rung >= 4


def sentence(rec: dict[str, Any], meta: dict[str, Any]) -> str:
    """One sentence for one decision, naming the constraint and claims that bound it."""
    who = _label(meta, rec["actor"])
    text = f"{who} {_phrase(meta, rec['action'], rec['target'])}".rstrip()
    if rec["forced"]:
        text += f" (scheduled: {rec['event']})" if rec.get("event") else " (scheduled event)"
    elif rec.get("trembled"):
        text += " (an out-of-character move)"
    if rec.get("event_blocked"):
        text += "; a scheduled action was blocked by its constraints"
    pref = rec.get("preferred")
    if pref and rec["bound"]:
        names = ", ".join(f"'{_constraint(c['constraint'])}' ({c['constraint']}, {c['kind']})" for c in rec["bound"])
        text += f"; it would have {_phrase(meta, pref['action'], pref['target'])}, but {names} stopped it ({_claims(rec['bound'])})"
    return text + "."


def narrate(records: list[dict[str, Any]], meta: dict[str, Any], replicate: int | None = None) -> str:
    """A week-by-week story of one replicate, in prose."""
    if replicate is not None:
        records = [r for r in records if r["replicate"] == replicate]
    if not records:
        return "(no decision records)\n"
    steps = sorted({r["step"] for r in records})
    lines = [f"## Replicate {records[0]['replicate']}", ""]
    for step in steps:
        recs = [r for r in records if r["step"] == step]
        notable = [r for r in recs if is_notable(r, meta)]
        order = {a: i for i, a in enumerate(MAJOR)}
        notable.sort(key=lambda r: (not r["forced"], order.get(r["actor"], 9)))
        state = recs[0]["state"]
        body = " ".join(sentence(r, meta) for r in notable) or "Nothing beyond routine statements."
        status = (
            f" Escalation stood at {state['escalation']:.1f}/10, Brent at {state['brent']:.0f} USD,"
            f" the war state at {WAR_STATES[int(state['war_state'])]}."
        )
        lines.append(f"**{_when(meta, step)}.** {body}{status if step == steps[0] or step % 4 == 0 else ''}")
        lines.append("")
    return "\n".join(lines)
