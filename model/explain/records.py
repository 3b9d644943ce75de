"""Full decision records of single replicates, re-simulated alone.

The model's randomness is keyed by replicate, so simulating replicate K on its own
reproduces exactly the trajectory it had inside its ensemble; with ``detail=True`` the
engine also keeps every utility, every feasibility mask and every constraint hit, which
this module turns into plain records (JSON-ready dicts) for decisions.jsonl and explain.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from model.engine import Config, simulate


def state_keys(spec: dict[str, Any]) -> list[str]:
    """The variables recorded with each decision: reporting.yaml's decision state and narrative status."""
    from model.catalog.reporting import variables

    names = [*variables(spec, "decision_state"), *variables(spec, "narrative_status")]
    return list(dict.fromkeys(n for n in names if n in spec["world"]["variables"]))


def choice_probabilities(utility: np.ndarray, temperature: float) -> np.ndarray:
    """The logit probability of each option: exp(U / T) over the options the actor could choose.

    The engine draws its choice with the Gumbel-max trick: it picks the option with the highest
    ``U / T + Gumbel noise`` among the feasible ones, which is exactly a draw from these
    probabilities. ``utility`` is what the engine compared (constraint costs subtracted, -inf
    for options a constraint removed), so an option with a higher utility than the chosen one
    is simply a likelier option that the draw did not pick. Infeasible options get 0.
    """
    u = np.asarray(utility, dtype=float)
    ok = np.isfinite(u)
    p = np.zeros_like(u)
    if not ok.any():
        return p
    z = (u[ok] - u[ok].max()) / float(temperature)
    w = np.exp(z)
    p[ok] = w / w.sum()
    return p


def decision_records(config: Config, replicate: int, top: int = 3) -> tuple[list[dict[str, Any]], Any]:
    """Records for every step and actor of one replicate; also returns the Result.

    Each record carries the replicate's logit temperature and the choice probability of the
    chosen option and of its alternatives (:func:`choice_probabilities`), computed from the
    utilities the engine compared.
    """
    res = simulate(config, [replicate], detail=True)
    spec = config.spec
    temperature = float(
        np.asarray(res.sampled.get("world.temperature", spec["world"]["parameters"]["temperature"]["value"])).ravel()[0]
    )
    cons = res.constraint_ids
    labels = {}
    for ev in config.events:
        if ev.step is not None:
            labels[(ev.step, ev.actor)] = ev.label or "scheduled event"
        else:
            labels.setdefault(("when", ev.actor, ev.action, ev.target), ev.label or f"conditional event ({ev.when})")
    records: list[dict[str, Any]] = []
    keys = state_keys(spec)
    for moment in res.records:
        step, day, decisions = moment["step"], moment["day"], moment["decisions"]
        t = step - 1
        state = {k: round(float(res.series[t, 0, res.variables.index(k)]), 4) for k in keys}
        for a, d in enumerate(decisions):
            if d.idle is not None and bool(d.idle[0]) and not bool(d.forced[0]):
                continue  # the unit did not decide at this moment
            actor = res.actors[res.unit_actor[a]]
            track = res.units[a].split(":", 1)[1]
            opts = res.options[a]
            det = d.detail
            U = det["utility"][0]
            Uf = det["utility_free"][0]
            k = int(d.choice[0])
            free = int(det["free"][0])
            idle = bool(d.idle[0]) if d.idle is not None else False
            P = choice_probabilities(U, temperature)
            if idle:  # no decision opportunity this step: the unit holds
                P = np.zeros_like(P)
                P[0] = 1.0
            order = [j for j in np.argsort(-U, kind="stable") if np.isfinite(U[j]) and j != k][:top]
            bound_ids = [cons[i] for i in range(len(cons)) if (int(d.bound[0]) >> i) & 1]
            removed = []
            for j in np.argsort(-Uf, kind="stable")[: top + 2]:
                hits = [cons[ci] for ci, hit in det["hits"].items() if hit[0, j]]
                if hits:
                    removed.append(
                        {
                            "action": opts[j][0],
                            "target": opts[j][1],
                            "utility_unconstrained": round(float(Uf[j]), 4),
                            "feasible": bool(det["feasible"][0, j]),
                            "constraints": hits,
                        }
                    )
            forced = bool(d.forced[0])
            rec = {
                "replicate": int(replicate),
                "step": step,
                "day": round(float(day), 3),
                "actor": actor,
                "track": track,
                "idle": idle,
                "action": opts[k][0],
                "target": opts[k][1],
                "utility": _num(U[k]),
                "probability": round(float(P[k]), 6),
                "temperature": round(temperature, 6),
                "forced": forced,
                "event": _event_label(labels, step, actor, opts[k]) if forced else None,
                "event_blocked": bool(det["event_blocked"][0]),
                "trembled": bool(d.trembled[0]),
                "alternatives": [
                    {
                        "action": opts[j][0],
                        "target": opts[j][1],
                        "utility": _num(U[j]),
                        "probability": round(float(P[j]), 6),
                    }
                    for j in order
                ],
                "preferred": None
                if free == k
                else {"action": opts[free][0], "target": opts[free][1], "utility_unconstrained": _num(Uf[free])},
                "bound": [
                    {
                        "constraint": c,
                        "kind": spec["constraints"][c]["kind"],
                        "claims": spec["constraints"][c]["claims"],
                        "text": spec["constraints"][c]["text"],
                    }
                    for c in bound_ids
                ],
                "constraints_on_top_options": removed,
                "state": state,
            }
            records.append(rec)
    return records, res


def _num(x: float) -> float | None:
    return round(float(x), 4) if np.isfinite(x) else None


def _event_label(labels: dict, step: int, actor: str, opt: tuple[str, str]) -> str:
    return labels.get((step, actor)) or labels.get(("when", actor, opt[0], opt[1])) or "event"
