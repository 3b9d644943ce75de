"""Full decision records of single replicates, re-simulated alone.

The model's randomness is keyed by replicate, so simulating replicate K on its own
reproduces exactly the trajectory it had inside its ensemble; with ``detail=True`` the
engine also keeps every utility, every feasibility mask and every constraint hit, which
this module turns into plain records (JSON-ready dicts) for decisions.jsonl and explain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from model.engine import Config, Result, simulate

if TYPE_CHECKING:
    from model.engine.core import Decision


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
    one = _Replicate(res, config.spec, int(replicate), _temperature(res, config.spec), _event_labels(config), top)
    keys = state_keys(config.spec)
    records: list[dict[str, Any]] = []
    for moment in res.records:
        t = moment["step"] - 1
        state = {k: round(float(res.series[t, 0, res.variables.index(k)]), 4) for k in keys}
        for a, d in enumerate(moment["decisions"]):
            if d.idle is not None and bool(d.idle[0]) and not bool(d.forced[0]):
                continue  # the unit did not decide at this moment
            records.append(_record(one, moment, a, d, state))
    return records, res


@dataclass(frozen=True)
class _Replicate:
    """What every record of one re-simulated replicate shares: the engine's Result and the facts read once from it.

    Why a record: each decision is turned into a record by :func:`_record`, and all of them need
    these; passed one by one they would lengthen every call and hide what differs.
    """

    res: Result
    spec: dict[str, Any]
    replicate: int
    temperature: float
    labels: dict[tuple[Any, ...], str]
    top: int


def _temperature(res: Result, spec: dict[str, Any]) -> float:
    """The replicate's logit temperature: its sampled value where the run samples it, else the catalog's."""
    return float(
        np.asarray(res.sampled.get("world.temperature", spec["world"]["parameters"]["temperature"]["value"])).ravel()[0]
    )


def _event_labels(config: Config) -> dict[tuple[Any, ...], str]:
    """Each scenario event's label, keyed by how a forced choice finds it (see :func:`_event_label`).

    A scheduled event is found by its step and actor; a conditional one, which may fire at any
    step, by its actor and option (the first of several alike keeps its label).
    """
    labels = {}
    for ev in config.events:
        if ev.step is not None:
            labels[(ev.step, ev.actor)] = ev.label or "scheduled event"
        else:
            labels.setdefault(("when", ev.actor, ev.action, ev.target), ev.label or f"conditional event ({ev.when})")
    return labels


def _record(one: _Replicate, moment: dict[str, Any], a: int, d: Decision, state: dict[str, float]) -> dict[str, Any]:
    """The record of unit ``a``'s decision ``d`` at one moment (keys in the order decisions.jsonl has them)."""
    res = one.res
    opts = res.options[a]
    det = d.detail
    U = det["utility"][0]
    Uf = det["utility_free"][0]
    k = int(d.choice[0])
    free = int(det["free"][0])
    idle = bool(d.idle[0]) if d.idle is not None else False
    P = _probabilities(U, one.temperature, idle)
    actor = res.actors[res.unit_actor[a]]
    forced = bool(d.forced[0])
    return {
        "replicate": one.replicate,
        "step": moment["step"],
        "day": round(float(moment["day"]), 3),
        "actor": actor,
        "track": res.units[a].split(":", 1)[1],
        "idle": idle,
        "action": opts[k][0],
        "target": opts[k][1],
        "utility": _num(U[k]),
        "probability": round(float(P[k]), 6),
        "temperature": round(one.temperature, 6),
        "forced": forced,
        "event": _event_label(one.labels, moment["step"], actor, opts[k]) if forced else None,
        "event_blocked": bool(det["event_blocked"][0]),
        "trembled": bool(d.trembled[0]),
        "alternatives": _alternatives(opts, U, P, k, one.top),
        "preferred": None
        if free == k
        else {"action": opts[free][0], "target": opts[free][1], "utility_unconstrained": _num(Uf[free])},
        "bound": _bound(one.spec, res.constraint_ids, int(d.bound[0])),
        "constraints_on_top_options": _constraints_on_top(opts, Uf, det, res.constraint_ids, one.top),
        "state": state,
    }


def _probabilities(utility: np.ndarray, temperature: float, idle: bool) -> np.ndarray:
    """The options' choice probabilities; a unit with no decision opportunity this step holds for certain."""
    P = choice_probabilities(utility, temperature)
    if idle:
        P = np.zeros_like(P)
        P[0] = 1.0
    return P


def _alternatives(opts: list[tuple[str, str]], U: np.ndarray, P: np.ndarray, k: int, top: int) -> list[dict[str, Any]]:
    """The ``top`` feasible options the actor did not choose, likeliest first (what else it might have done)."""
    order = [j for j in np.argsort(-U, kind="stable") if np.isfinite(U[j]) and j != k][:top]
    return [
        {"action": opts[j][0], "target": opts[j][1], "utility": _num(U[j]), "probability": round(float(P[j]), 6)}
        for j in order
    ]


def _bound(spec: dict[str, Any], cons: list[str], mask: int) -> list[dict[str, Any]]:
    """The constraints that bound this decision (bit i of ``mask`` is constraint i), with their kind, claims and text."""
    return [
        {
            "constraint": c,
            "kind": spec["constraints"][c]["kind"],
            "claims": spec["constraints"][c]["claims"],
            "text": spec["constraints"][c]["text"],
        }
        for c in (cons[i] for i in range(len(cons)) if (mask >> i) & 1)
    ]


def _constraints_on_top(
    opts: list[tuple[str, str]], Uf: np.ndarray, det: dict[str, Any], cons: list[str], top: int
) -> list[dict[str, Any]]:
    """The constraints that removed or penalised the options the actor liked best before constraints.

    Only the ``top + 2`` options ranked first before constraints are looked at: a constraint on an
    option the actor would not have chosen anyway changed nothing the reader needs to see.
    """
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
    return removed


def _num(x: float) -> float | None:
    return round(float(x), 4) if np.isfinite(x) else None


def _event_label(labels: dict, step: int, actor: str, opt: tuple[str, str]) -> str:
    return labels.get((step, actor)) or labels.get(("when", actor, opt[0], opt[1])) or "event"
