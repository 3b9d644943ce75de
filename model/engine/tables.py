"""Compile the cited catalog into the arrays the vectorised rules run on.

Each actor gets an option table (its catalogue actions times their targets) with the
predicted effect of every option on every feature it can move, its stance alignment, its
ladder rung and Goldstein value, and the constraints that can remove or penalise it.
Per-replicate parameter draws arrive as arrays of shape (R,) and broadcast everywhere.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from model import expr
from model.catalog import variable_names, world_variables
from model.engine.config import Config, Uncertainty, get_value

Value = float | np.ndarray


def claim_switches(spec: dict[str, Any]) -> dict[str, list[str]]:
    """Which parameter paths each claim drives (its first-cited parts), for switching it off.

    A part is driven by the first claim it lists; the others support it. Switching a claim
    off zeroes the interests, stances, responses and grievances it drives and lifts the
    constraints it drives.
    """
    out: dict[str, list[str]] = {}

    def add(node: dict[str, Any] | None, path: str) -> None:
        if isinstance(node, dict) and node.get("claims"):
            out.setdefault(node["claims"][0], []).append(path)

    for a, actor in spec["actors"].items():
        add(actor.get("response"), f"actors.{a}.response")
        for s, st in actor["stances"].items():
            add(st, f"actors.{a}.stances.{s}")
        for t, it in actor["interests"].items():
            add(it, f"actors.{a}.interests.{t}.weight")
        for b, g in actor.get("initial_grievance", {}).items():
            add(g, f"actors.{a}.initial_grievance.{b}")
    for cid, con in spec["constraints"].items():
        add(con, f"constraints.{cid}.lifted")
    return out


class Params:
    """Parameter values: catalog constants, or per-replicate arrays for sampled paths."""

    def __init__(self, config: Config, keys: np.ndarray, reps: np.ndarray) -> None:
        self.spec = config.spec
        self.values: dict[str, Value] = {}
        fixed = set(config.spec.get("_fixed", ()))
        uncertainties = list(config.uncertainties)
        declared = {u.path for u in uncertainties} | set(config.samples)
        for path, d in config.spec["world"].get("disputed", {}).items():
            if path not in declared and path not in fixed:
                params = {k: v for k, v in d.items() if k not in ("dist", "claims", "doc")}
                uncertainties.append(Uncertainty(path, d["dist"], params))
        for u in uncertainties:
            self.values[u.path] = u.sample(keys)
        for path, arr in config.samples.items():
            values = np.asarray(arr, dtype=float)
            if values.shape != (len(reps),):
                raise ValueError(f"samples for {path} must hold one value per simulated replicate ({len(reps)})")
            self.values[path] = values
        switches = claim_switches(config.spec)
        for claim in config.claims_off:
            for path in switches.get(claim, []):
                self.values[path] = True if path.endswith(".lifted") else 0.0

    def get(self, path: str) -> Value:
        if path in self.values:
            return self.values[path]
        v = get_value(self.spec, path)
        return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else v

    def world(self, name: str) -> Value:
        return self.get(f"world.{name}")


@dataclass
class ConstraintTable:
    """One constraint applied to one actor's options."""

    cid: str
    index: int
    kind: str
    factor: np.ndarray  # (K,) penalty multiplier, 0 where the constraint does not touch the option
    affects: np.ndarray  # (K,) bool
    lifted: Value
    condition: expr.Node | None = None
    penalty: expr.Node | None = None
    params: dict[str, Value] = field(default_factory=dict)
    stock: int = -1  # world-variable index for cap constraints
    cost: np.ndarray | None = None  # (K,) stock each option consumes


@dataclass
class ActorTable:
    """Everything the decision rule needs about one actor's options."""

    index: int
    name: str
    options: list[tuple[str, str]]
    target: np.ndarray  # (K,) actor index or -1
    effort: np.ndarray
    world_delta: np.ndarray  # (K, V)
    set_mask: np.ndarray  # (K, V) bool
    set_value: np.ndarray  # (K, V)
    rel_delta: np.ndarray  # (K, A)
    esc_delta: np.ndarray  # (K,) or (R, K): predicted escalation change
    align: np.ndarray  # (K, S)
    resp: np.ndarray  # (K,)
    severity: np.ndarray
    harm: np.ndarray  # (K,) bool
    help: np.ndarray  # (K,) bool
    stance_self: np.ndarray  # (K, S)
    stance_target: np.ndarray  # (K, S)
    rung: np.ndarray  # (K,) int
    goldstein: np.ndarray
    tier: np.ndarray  # (K,) int, Russia's support tier for pro-Iran options
    direct: np.ndarray  # (K,) bool: direct state-on-state strike
    launches: np.ndarray  # (K,) missiles fired at Israel (to be intercepted)
    ceasefire: np.ndarray  # (K,) bool: the option agrees a ceasefire
    has_stance_effects: bool = False
    has_sets: bool = False
    stance_self_any: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    stance_target_any: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    set_any: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    feature_cols: list[tuple[int, np.ndarray]] = field(default_factory=list)
    set_cols: list[tuple[int, np.ndarray, np.ndarray]] = field(default_factory=list)
    linear: dict[int, Value] = field(default_factory=dict)  # feature -> summed linear weight
    peaks: list[tuple[int, Value, Value, Value]] = field(default_factory=list)  # (f, weight, target, width)
    hinges: list[tuple[int, Value, Value]] = field(default_factory=list)  # (f, weight, threshold)
    response_weight: Value = 0.0
    damped_by: int = -1
    constraints: list[ConstraintTable] = field(default_factory=list)


@dataclass
class Tables:
    """The compiled world: variable and actor indices, option tables, initial state."""

    variables: list[str]
    var_index: dict[str, int]
    actors: list[str]
    actor_index: dict[str, int]
    issues: list[str]
    lower: np.ndarray
    upper: np.ndarray
    actor_tables: list[ActorTable]
    constraint_ids: list[str]
    option_labels: list[tuple[str, str, str]]  # global option index -> (actor, action, target)
    option_offset: list[int]
    names: set[str]
    params: Params


def _take(spec_a: dict[str, Any], name: str, default: Any) -> Any:
    v = spec_a.get(name, default)
    return default if v is None else v


def compile_tables(config: Config, keys: np.ndarray, reps: np.ndarray) -> Tables:
    """Build the option tables for every actor under this configuration."""
    spec = copy.deepcopy(config.spec)
    params = Params(config, keys, reps)
    params.spec = spec
    variables = world_variables(spec)
    vidx = {v: i for i, v in enumerate(variables)}
    actors = list(spec["actors"])
    aidx = {a: i for i, a in enumerate(actors)}
    issues = list(spec["world"]["issues"])
    sidx = {s: i for i, s in enumerate(issues)}
    V, A, S = len(variables), len(actors), len(issues)
    lower = np.array([spec["world"]["variables"][v]["lower"] for v in variables], dtype=float)
    upper = np.array([spec["world"]["variables"][v]["upper"] for v in variables], dtype=float)
    sides = spec["axis"]["sides"]
    scales = spec["scales"]
    esc_gain = params.world("escalation_gain")
    deesc_gain = params.world("deescalation_gain")
    constraint_ids = list(spec["constraints"])
    names = variable_names(spec)
    parties = set(spec["war_parties"]["actors"])

    tables: list[ActorTable] = []
    labels: list[tuple[str, str, str]] = []
    offsets: list[int] = []
    for a in actors:
        ai = aidx[a]
        opts = [(act, t) for act, sa in spec["actions"].items() for t in sa.get("takers", {}).get(a, [])]
        K = len(opts)
        offsets.append(len(labels))
        labels += [(a, act, t) for act, t in opts]
        tab = ActorTable(
            index=ai,
            name=a,
            options=opts,
            target=np.array([aidx.get(t, -1) for _, t in opts], dtype=np.int64),
            effort=np.zeros(K),
            world_delta=np.zeros((K, V)),
            set_mask=np.zeros((K, V), dtype=bool),
            set_value=np.zeros((K, V)),
            rel_delta=np.zeros((K, A)),
            esc_delta=np.zeros(K),
            align=np.zeros((K, S)),
            resp=np.zeros(K),
            severity=np.zeros(K),
            harm=np.zeros(K, dtype=bool),
            help=np.zeros(K, dtype=bool),
            stance_self=np.zeros((K, S)),
            stance_target=np.zeros((K, S)),
            rung=np.zeros(K, dtype=np.int64),
            goldstein=np.zeros(K),
            tier=np.zeros(K, dtype=np.int64),
            direct=np.zeros(K, dtype=bool),
            launches=np.zeros(K),
            ceasefire=np.array([act == "agree_ceasefire" for act, _ in opts], dtype=bool),
        )
        imp = np.zeros(K)
        dee = np.zeros(K)
        partner = {"russia": "iran", "iran": "russia"}.get(a)
        for k, (act, t) in enumerate(opts):
            sa = spec["actions"][act]
            sc = scales[act]
            tab.effort[k] = float(_take(sa, "effort", 0.0))
            tab.resp[k] = float(_take(sa, "response", 0.0))
            tab.severity[k] = float(_take(sa, "severity", 0.0))
            pol = _take(sa, "polarity", "neutral")
            tab.harm[k] = pol == "harm"
            tab.help[k] = pol == "help"
            tab.rung[k] = sc["kahn_rung"]
            tab.goldstein[k] = sc["goldstein"]
            tab.direct[k] = bool(_take(sa, "direct_strike", False)) and t in parties and a in parties
            imp[k] = (sc["kahn_rung"] / 10.0) ** float(np.max(params.world("escalation_exponent")))
            dee[k] = float(_take(sa, "deescalatory", 0.0))
            deltas: dict[str, float] = dict(_take(sa, "effects", {}))
            for who, eff in (_take(sa, "by_target", {}) or {}).items():
                if who == t:
                    for var, d in eff.items():
                        deltas[var] = deltas.get(var, 0.0) + d
            for who, eff in (_take(sa, "by_actor", {}) or {}).items():
                if who == a:
                    for var, d in eff.items():
                        deltas[var] = deltas.get(var, 0.0) + d
            for var, c in (_take(sa, "cost", {}) or {}).items():
                if var.startswith(f"{a}."):
                    deltas[var] = deltas.get(var, 0.0) - c
                    if var == "iran.missiles" and t == "israel":
                        tab.launches[k] = c
            for var, d in deltas.items():
                tab.world_delta[k, vidx[var]] += d
            sets = dict(_take(sa, "sets", {}))
            sets.update((_take(sa, "by_actor_sets", {}) or {}).get(a, {}))
            for var, val in sets.items():
                tab.set_mask[k, vidx[var]] = True
                tab.set_value[k, vidx[var]] = val
            if t in aidx:
                tab.rel_delta[k, aidx[t]] += float(_take(sa, "relation", 0.0))
            for who, d in (_take(sa, "reactions", {}) or {}).items():
                if who != a:
                    tab.rel_delta[k, aidx[who]] += d
            if partner is not None:
                # the Russia-Iran relation *is* the cohesion variable
                tab.rel_delta[k, aidx[partner]] += tab.world_delta[k, vidx["cohesion"]]
                tab.world_delta[k, vidx["cohesion"]] = 0.0
            axis_w = float(_take(sa, "axis", 0.0))
            sign = 1.0 if pol == "help" else -1.0 if pol == "harm" else 0.0
            tab.align[k, sidx["support_iran"]] += sign * sides.get(t, 0) * axis_w
            for issue, w in (_take(sa, "align", {}) or {}).items():
                tab.align[k, sidx[issue]] += w
            st = _take(sa, "stance", {}) or {}
            for issue, d in (st.get("actor") or {}).items():
                tab.stance_self[k, sidx[issue]] += d
            for issue, d in (st.get("target") or {}).items():
                tab.stance_target[k, sidx[issue]] += d
            if a == "russia" and tab.align[k, sidx["support_iran"]] > 0:
                tab.tier[k] = int(_take(sa, "tier", 0))
        tab.esc_delta = np.multiply.outer(np.atleast_1d(esc_gain), imp) - np.multiply.outer(
            np.atleast_1d(deesc_gain), dee
        )
        if tab.esc_delta.shape[0] == 1:
            tab.esc_delta = tab.esc_delta[0]
        tab.world_delta[:, vidx["escalation"]] = 0.0  # escalation moves only through esc_delta
        tab.has_stance_effects = bool(tab.stance_self.any() or tab.stance_target.any())
        tab.has_sets = bool(tab.set_mask.any())
        tab.stance_self_any = tab.stance_self.any(axis=1)
        tab.stance_target_any = tab.stance_target.any(axis=1)
        tab.set_any = tab.set_mask.any(axis=1)

        actor = spec["actors"][a]
        for term, it in actor["interests"].items():
            var = it["var"]
            f = V + aidx[var.split(".", 1)[1]] if var.startswith("relation.") else vidx[var]
            w = params.get(f"actors.{a}.interests.{term}.weight")
            if it["kind"] == "linear":
                tab.linear[f] = tab.linear.get(f, 0.0) + w
            elif it["kind"] == "above":
                tab.hinges.append((f, w, params.get(f"actors.{a}.interests.{term}.threshold")))
            else:
                tab.peaks.append(
                    (
                        f,
                        w,
                        params.get(f"actors.{a}.interests.{term}.target"),
                        params.get(f"actors.{a}.interests.{term}.width"),
                    )
                )
        tab.response_weight = params.get(f"actors.{a}.response")
        damp = actor["response"].get("damped_by")
        tab.damped_by = vidx[damp] if damp else -1
        interest_features = set(tab.linear) | {p[0] for p in tab.peaks} | {h[0] for h in tab.hinges}
        for f in sorted(interest_features):
            if f == vidx["escalation"]:
                col = tab.esc_delta
            elif f < V:
                col = tab.world_delta[:, f]
            else:
                col = tab.rel_delta[:, f - V]
            if np.any(col != 0):
                tab.feature_cols.append((f, col))
            if f < V and tab.set_mask[:, f].any():
                tab.set_cols.append((f, tab.set_mask[:, f], tab.set_value[:, f]))

        for ci, cid in enumerate(constraint_ids):
            con = spec["constraints"][cid]
            if con["actor"] != a:
                continue
            acts = con["actions"]
            factors = acts if isinstance(acts, dict) else {x: 1.0 for x in acts}
            factor = np.array([float(factors.get(act, 0.0)) for act, _ in opts])
            cparams = {p: params.get(f"constraints.{cid}.{p}") for p in (con.get("params") or {})}
            lifted = params.values.get(f"constraints.{cid}.lifted", bool(con.get("lifted", False)))
            ct = ConstraintTable(
                cid=cid,
                index=ci,
                kind=con["kind"],
                factor=factor,
                affects=factor != 0,
                lifted=lifted,
                params=cparams,
            )
            if "condition" in con:
                ct.condition = expr.parse(con["condition"], names, cparams)
            if "penalty" in con:
                ct.penalty = expr.parse(con["penalty"], names, cparams)
            if con["kind"] == "cap":
                ct.stock = vidx[con["stock"]]
                ct.cost = -tab.world_delta[:, ct.stock] * ct.affects
            tab.constraints.append(ct)
        tables.append(tab)
    return Tables(
        variables=variables,
        var_index=vidx,
        actors=actors,
        actor_index=aidx,
        issues=issues,
        lower=lower,
        upper=upper,
        actor_tables=tables,
        constraint_ids=constraint_ids,
        option_labels=labels,
        option_offset=offsets,
        names=names,
        params=params,
    )
