"""``entente explain`` and ``entente narrate``: one replicate, re-simulated alone, in full.

The replicate is rebuilt from the run's manifest and simulated on its own; its trajectory is
checked against the one stored in the run (bit for bit in float32), so what is explained is
exactly what happened in the ensemble.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from model import files
from model.errors import InputError, RunError, did_you_mean
from model.execution import scenario_from_manifest
from model.explain.narrative import narrate
from model.explain.records import decision_records


def replay(
    run: Path, replicate: int, meta: dict[str, Any] | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Decision records of one replicate, verified against the stored trajectory.

    The run folder is verified first (complete, every file unaltered) unless the caller passes
    the manifest it has just verified; a replicate the run did not store is refused.
    """
    rp = _replay(run, replicate, meta)
    return rp.records, rp.meta


@dataclass
class Replayed:
    """One replicate re-simulated alone: its records, the run's manifest, the engine Result and config spec."""

    records: list[dict[str, Any]]
    meta: dict[str, Any]
    result: Any
    spec: dict[str, Any]


def _replay(run: Path, replicate: int, meta: dict[str, Any] | None = None) -> Replayed:
    meta = meta if meta is not None else files.verify_run(run)
    n = meta["replicates"]
    if isinstance(replicate, bool) or not isinstance(replicate, int | np.integer) or not 0 <= replicate < n:
        raise InputError.one(
            "command line", f"--replicate must lie in 0..{n - 1} (the run's replicates), found {replicate}"
        )
    sc = scenario_from_manifest(meta, str(run / files.MANIFEST))
    records, res = decision_records(sc.config, int(replicate))
    stored = files.read_replicate_series(run, int(replicate), res.variables)
    if stored is None:
        raise InputError.one(str(run), f"replicate {replicate} is not stored in this run")
    mine = res.series[:, 0, :].astype(np.float32)
    if not np.array_equal(mine, stored):
        raise RunError(
            f"re-simulating replicate {replicate} did not reproduce the stored trajectory; was the catalog changed since the run?"
        )
    return Replayed(records, meta, res, sc.config.spec)


def _one(res: Any, name: str) -> float:
    v = res.outcomes.get(name)
    return float(np.asarray(v, dtype=float).ravel()[0]) if v is not None else float("nan")


def summary_line(rp: Replayed, replicate: int) -> str:
    """One line on how the replicate went, over reporting.yaml's summary outcomes (labels and units from the run).

    A probability outcome reads yes or no (with the week it first happened when an event outcome
    of the same expression says so), a tier its number and name, anything else its value and unit.
    """
    from model.catalog.glossary import label
    from model.catalog.reporting import outcomes

    res, meta = rp.result, rp.meta
    defs = {**rp.spec.get("outcomes", {}), **meta.get("outcomes", {})}
    parts = []
    for name in outcomes(rp.spec, "replicate_summary"):
        x = _one(res, name)
        d = defs.get(name, {})
        if not np.isfinite(x) and d.get("kind") != "event":
            continue
        text = label({**rp.spec, "outcomes": defs}, "outcome", name)
        parts.append(_summary_part(text, x, d, defs, res, meta))
    return f"Replicate {replicate}: " + "; ".join(parts) + "."


def _summary_part(text: str, x: float, d: dict[str, Any], defs: dict[str, Any], res: Any, meta: dict[str, Any]) -> str:
    """One outcome of the summary line in words."""
    kind, unit = d.get("kind", "continuous"), str(d.get("unit", "") or "")
    if kind == "binary":
        if x < 0.5:
            return f"{text}: no"
        same = "".join(str(d.get("expr", "")).split())
        week = next(
            (
                _one(res, n)
                for n, o in defs.items()
                if o.get("reduce") == "first_week"
                and "".join(str(o.get("expr", "")).split()) == same
                and n in res.outcomes
            ),
            float("nan"),
        )
        return f"{text}: yes" + (f" (from week {week:g})" if np.isfinite(week) else "")
    if kind == "event":
        return f"{text}: " + (f"week {x:g}" if np.isfinite(x) else "not by the horizon")
    if kind == "tier":
        names = meta.get("support_tiers") or []
        k = int(x)
        return f"{text} {k}" + (f" ({names[k]})" if 0 <= k < len(names) else "")
    if unit.startswith("index ") and "-" in unit:
        return f"{text} {x:.1f} of {unit.rsplit('-', 1)[1]}"
    return f"{text} {x:.3g} {unit}".rstrip()


def _act(rp: Replayed, action: str, target: str) -> str:
    """An option as a reader says it: the action's label (identifier) and the target's name."""
    from model.catalog.glossary import label

    text = f"{label(rp.spec, 'action', action)} ({action})"
    if target != "none":
        text += f" -> {label(rp.spec, 'actor', target)}"
    return text


def _con(rp: Replayed, cid: str) -> str:
    from model.catalog.glossary import labelled

    return labelled(rp.spec, "constraint", cid)


def sampled_lines(rp: Replayed) -> list[str]:
    """The values this replicate drew for the run's uncertain parameters (scenario uncertainties and disputed values)."""
    meta, res = rp.meta, rp.result
    paths = [u["path"] for u in meta.get("uncertainties", [])]
    paths += [p for p in (meta.get("disputed") or {}) if p not in paths]
    rows = []
    for p in paths:
        if p not in res.sampled:
            continue  # fixed by the scenario (a constant or --set)
        v = float(np.asarray(res.sampled[p]).ravel()[0])
        d = next((u for u in meta.get("uncertainties", []) if u["path"] == p), None)
        params = d["params"] if d else (meta.get("disputed") or {}).get(p, {})
        if "low" in params and "high" in params:
            rng = f" (drawn from {params['low']:g}-{params['high']:g})"
        elif "values" in params:
            rng = f" (drawn from {', '.join(f'{x:g}' for x in params['values'])})"
        else:
            rng = ""
        from model.scenario.settings import path_label

        name, unit = path_label(rp.spec, p)
        rows.append(f"  {name}: {v:.4g}{' ' + unit if unit else ''}{rng}  [{p}]")
    if not rows:
        return []
    return [
        "Sampled for this replicate (gates and costs below read these values, not the catalog's defaults):",
        *rows,
    ]


def _params_now(rp: Replayed, cid: str) -> str:
    """A constraint's parameters as this replicate has them (sampled values where sampled)."""
    con = rp.spec["constraints"].get(cid, {})
    out = []
    for name, node in (con.get("params") or {}).items():
        path = f"constraints.{cid}.{name}"
        if path in rp.result.sampled:
            v = float(np.asarray(rp.result.sampled[path]).ravel()[0])
            out.append(f"{name} {v:.3g} in this replicate")
        else:
            v = node.get("value") if isinstance(node, dict) else node
            if isinstance(v, int | float):
                out.append(f"{name} {v:g}")
    return f" [{', '.join(out)}]" if out else ""


def _pct(p: float | None) -> str:
    """A probability as a reader takes it in: 62.0%, 0.4%, 3e-05, 0%."""
    if p is None:
        return "n/a"
    if p == 0 or p >= 0.001:
        return f"{p:.1%}" if p else "0%"
    return f"{p:.0e}"


def tremble_note(rp: Replayed) -> str:
    """What a tremble is, with this run's numbers."""
    world = rp.spec["world"]["parameters"]
    eps = world["tremble"]["value"]
    cap = world["tremble_max_rung"]["value"]
    if "world.tremble" in rp.result.sampled:
        eps = float(np.asarray(rp.result.sampled["world.tremble"]).ravel()[0])
    return (
        f"(tremble) marks a tremble: with probability {eps:g} per decision an actor ignores its utilities and"
        f" picks one of its feasible options at random, up to rung {cap:g} of the ladder: a miscalculation"
        " (C59), not a choice its interests explain."
    )


def explain(
    run: Path,
    replicate: int,
    actor: str | None = None,
    step: int | None = None,
    meta: dict[str, Any] | None = None,
) -> str:
    """Step-by-step decisions with alternatives, binding constraints, claim texts and sources."""
    if actor is not None and meta is not None and actor not in meta["actors"]:
        raise InputError.one(
            "command line", f"--actor: unknown actor '{actor}'{did_you_mean(actor, list(meta['actors']))}"
        )
    rp = _replay(run, replicate, meta)
    meta = rp.meta
    if actor is not None and actor not in meta["actors"]:
        raise InputError.one(
            "command line", f"--actor: unknown actor '{actor}'{did_you_mean(actor, list(meta['actors']))}"
        )
    head = [
        summary_line(rp, replicate),
        f"Run {run.name} of {meta['scenario']['name']}, re-simulated alone: the trajectory matches the run.",
    ]
    return describe(rp, actor, step, head)


def describe(rp: Replayed, actor: str | None = None, step: int | None = None, head: list[str] | None = None) -> str:
    """Decisions of one re-simulated replicate, with probabilities, alternatives, binding constraints and claims.

    Works on a :class:`Replayed` (records, the run's data dictionary, the engine result), so
    ``entente explain`` and the app show the same text.
    """
    from model.catalog.glossary import label
    from model.catalog.reporting import hold_action

    records = rp.records
    out = [*(head or []), "", _logit_note(records)]
    head_end = len(out)
    out += ["", *sampled_lines(rp), ""]
    claims_seen: set[str] = set()
    hold = hold_action(rp.spec)
    names = {k: label(rp.spec, "variable", k) for k in (records[0]["state"] if records else {})}
    for rec in records:
        if _shown(rec, actor, step, hold):
            lines, claims = _decision_lines(rp, rec, names)
            out += lines
            claims_seen.update(claims)
    if any("(tremble)" in line for line in out[head_end:]):
        out.insert(head_end, tremble_note(rp))
    return "\n".join([*out, *_claims_lines(rp.meta, claims_seen)])


def _logit_note(records: list[dict[str, Any]]) -> str:
    """How to read u and p: a reader who sees a likelier option not chosen must not take it for a bug."""
    temps = {r.get("temperature") for r in records if r.get("temperature") is not None}
    temp = f"{next(iter(temps)):.3g}" if len(temps) == 1 else "as sampled"
    return (
        f"Each decision is a logit draw: option j is chosen with probability exp(u_j / T) / sum_k exp(u_k / T)"
        f" over the feasible options, at this replicate's temperature T = {temp} (utility units). p is that"
        " probability: an alternative with a higher u than the chosen option was likelier, not forbidden."
        " '(event)' marks a choice the scenario imposed."
    )


def _shown(rec: dict[str, Any], actor: str | None, step: int | None, hold: str) -> bool:
    """Whether explain prints a decision: the one asked for, and never a hold with nothing behind it.

    Why: most records are a unit holding at a step where it had no decision to take, or an
    uneventful hold; listed in full they would bury the decisions. A hold a constraint bound
    is kept, and so is an active hold when the reader asked for one actor or one step.
    """
    if actor and rec["actor"] != actor:
        return False
    if step is not None and rec["step"] != step:
        return False
    quiet_hold = rec["action"] == hold and not rec["bound"]
    return not (quiet_hold and (rec.get("idle") or (not actor and step is None)))


def _decision_lines(rp: Replayed, rec: dict[str, Any], names: dict[str, str]) -> tuple[list[str], set[str]]:
    """One decision as explain prints it, and the claims behind the constraints it names (listed once at the end)."""
    who = f"{rec['actor']}:{rec['track']}" if rec.get("track") else rec["actor"]
    head = f"step {rec['step']:>3}  {who:<18} {_act(rp, rec['action'], rec['target'])}"
    head += (
        f"   u={rec['utility']}  p={_pct(rec.get('probability'))}"
        + ("  (event: " + str(rec["event"]) + ")" if rec["forced"] else "")
        + ("  (tremble)" if rec["trembled"] else "")
    )
    alts = ", ".join(
        f"{_act(rp, a['action'], a['target'])} u={a['utility']} p={_pct(a.get('probability'))}"
        for a in rec["alternatives"]
    )
    out = [
        head,
        "        state: " + ", ".join(f"{names.get(k, k)} {v:.3g}" for k, v in rec["state"].items()),
        f"        alternatives: {alts or 'none feasible'}",
    ]
    if rec["preferred"]:
        p = rec["preferred"]
        out.append(
            f"        preferred before constraints: {_act(rp, p['action'], p['target'])}"
            f" (u={p['utility_unconstrained']})"
        )
    lines, claims = _constraint_lines(rp, rec)
    return out + lines, claims


def _constraint_lines(rp: Replayed, rec: dict[str, Any]) -> tuple[list[str], set[str]]:
    """The constraints that bound the choice, then those that removed or penalised its top alternatives.

    The preferred option's own constraints are not repeated: the BOUND lines already name them.
    """
    out = []
    claims: set[str] = set()
    for b in rec["bound"]:
        out.append(
            f"        BOUND {_con(rp, b['constraint'])} ({b['kind']}; {', '.join(b['claims'])}){_params_now(rp, b['constraint'])}:"
            f" {b['text']}"
        )
        claims.update(b["claims"])
    pref = rec["preferred"]
    for r in rec["constraints_on_top_options"]:
        if pref and r["action"] == pref["action"] and r["target"] == pref["target"]:
            continue
        state = "removed" if not r["feasible"] else "penalised"
        out.append(
            f"        {state}: {_act(rp, r['action'], r['target'])} (u before constraints"
            f" {r['utility_unconstrained']}) by"
            f" {', '.join(_con(rp, c) + _params_now(rp, c) for c in r['constraints'])}"
        )
        for c in r["constraints"]:
            claims.update(next(x["claims"] for x in rp.meta["constraints"] if x["id"] == c))
    return out, claims


def _claims_lines(meta: dict[str, Any], claims: set[str]) -> list[str]:
    """Each claim behind the constraints shown, with its text and source, so a reader can check the reason given."""
    if not claims:
        return []
    out = ["", "Claims behind the constraints above:"]
    for cid in sorted(claims):
        c = meta["claims"][cid]
        out.append(
            textwrap.fill(
                f"{cid}: {c['text']} [{c['source']}: {meta['sources'][c['source']]}]",
                100,
                subsequent_indent="     ",
            )
        )
    return out


def narrate_replicate(run: Path, replicate: int, meta: dict[str, Any] | None = None) -> str:
    """The replicate as a story, opened by its one-line summary and the values it drew."""
    rp = _replay(run, replicate, meta)
    head = [summary_line(rp, replicate), ""]
    sampled = sampled_lines(rp)
    if sampled:
        head += [*sampled, ""]
    if any(r["trembled"] for r in rp.records):
        head += [
            "An 'out-of-character move' is a tremble: " + tremble_note(rp).split(": ", 1)[1].replace("(C59)", "(C59)"),
            "",
        ]
    keys = list(rp.records[0]["state"]) if rp.records else []
    final = {k: float(rp.result.series[-1, 0, rp.result.variables.index(k)]) for k in keys}
    return "\n".join(head) + "\n" + narrate(rp.records, rp.meta, replicate, final)
