"""``entente explain`` and ``entente narrate``: one replicate, re-simulated alone, in full.

The replicate is rebuilt from the run's manifest and simulated on its own; its trajectory is
checked against the one stored in the run (bit for bit in float32), so what is explained is
exactly what happened in the ensemble.
"""

from __future__ import annotations

import textwrap
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
    return records, meta


def explain(
    run: Path,
    replicate: int,
    actor: str | None = None,
    step: int | None = None,
    meta: dict[str, Any] | None = None,
) -> str:
    """Step-by-step decisions with alternatives, binding constraints, claim texts and sources."""
    records, meta = replay(run, replicate, meta)
    if actor is not None and actor not in meta["actors"]:
        raise InputError.one("command line", f"unknown actor '{actor}'{did_you_mean(actor, list(meta['actors']))}")
    head = f"Replicate {replicate} of {meta['scenario']['name']} (run {run.name}), re-simulated alone: trajectory matches the run."
    return head + "\n" + describe(records, meta, actor, step)


def describe(
    records: list[dict[str, Any]], meta: dict[str, Any], actor: str | None = None, step: int | None = None
) -> str:
    """Decisions of one replicate's records, with alternatives, binding constraints and claims.

    Pure (records and a run's data dictionary), so ``entente explain`` and the app show the
    same text.
    """
    out = [
        "Utilities are in the model's utility units; '(event)' marks a choice imposed by the scenario.",
        "",
    ]
    claims_seen: set[str] = set()
    for rec in records:
        if actor and rec["actor"] != actor:
            continue
        if step is not None and rec["step"] != step:
            continue
        if rec["action"] == "hold" and not rec["bound"] and (rec.get("idle") or (not actor and step is None)):
            continue  # a unit without a decision this step, or an uneventful hold
        s = rec["state"]
        who = f"{rec['actor']}:{rec['track']}" if rec.get("track") else rec["actor"]
        head = f"step {rec['step']:>3}  {who:<18} {rec['action']}" + (
            f" -> {rec['target']}" if rec["target"] != "none" else ""
        )
        head += (
            f"   u={rec['utility']}"
            + ("  (event: " + str(rec["event"]) + ")" if rec["forced"] else "")
            + ("  (tremble)" if rec["trembled"] else "")
        )
        out.append(head)
        out.append(
            f"        state: escalation {s['escalation']:.2f}, brent {s['brent']:.1f}, war state {int(s['war_state'])}, cohesion {s['cohesion']:.2f}, Russia's Gulf stake {s['russia.gulf_stake']:.2f}"
        )
        alts = ", ".join(
            f"{a['action']}" + (f"->{a['target']}" if a["target"] != "none" else "") + f" {a['utility']}"
            for a in rec["alternatives"]
        )
        out.append(f"        next best: {alts}")
        if rec["preferred"]:
            p = rec["preferred"]
            out.append(
                f"        preferred before constraints: {p['action']}->{p['target']} (u={p['utility_unconstrained']})"
            )
        for b in rec["bound"]:
            out.append(f"        BOUND {b['constraint']} ({b['kind']}; {', '.join(b['claims'])}): {b['text']}")
            claims_seen.update(b["claims"])
        for r in rec["constraints_on_top_options"]:
            if (
                rec["preferred"]
                and r["action"] == rec["preferred"]["action"]
                and r["target"] == rec["preferred"]["target"]
            ):
                continue
            state = "removed" if not r["feasible"] else "penalised"
            out.append(
                f"        {state}: {r['action']}->{r['target']} (u before constraints {r['utility_unconstrained']}) by {', '.join(r['constraints'])}"
            )
            for c in r["constraints"]:
                claims_seen.update(next(x["claims"] for x in meta["constraints"] if x["id"] == c))
    if claims_seen:
        out += ["", "Claims behind the constraints above:"]
        for cid in sorted(claims_seen):
            c = meta["claims"][cid]
            out.append(
                textwrap.fill(
                    f"{cid}: {c['text']} [{c['source']}: {meta['sources'][c['source']]}]",
                    100,
                    subsequent_indent="     ",
                )
            )
    return "\n".join(out)


def narrate_replicate(run: Path, replicate: int, meta: dict[str, Any] | None = None) -> str:
    records, meta = replay(run, replicate, meta)
    return narrate(records, meta, replicate)
