"""Compile the cited catalog into the arrays the vectorised rules run on.

Each actor gets an option table (its catalogue actions times their targets) with the
predicted effect of every option on every feature it can move, its stance alignment, its
ladder rung and Goldstein value, and the constraints that can remove or penalise it.
Per-replicate parameter draws arrive as arrays of shape (R,) and broadcast everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from model import expr
from model.catalog import plain_copy, variable_names, world_variables
from model.engine.config import Config, Uncertainty, get_value

Value = float | np.ndarray


def claim_switches(spec: dict[str, Any]) -> dict[str, list[str]]:
    """Which parameter paths each claim drives, for switching it off (claim ablation).

    A part is driven by the claim named in its ``drives`` field, else by the first claim it
    lists; the others support it (``drives: none`` marks a part no claim drives, such as an
    actor's own obvious position). Switching a claim off zeroes the interests, stances,
    responses and grievances it drives, lifts the constraints it drives, and sets the world
    parameters it drives to their declared ``ablate`` value.
    """
    out: dict[str, list[str]] = {}

    def add(node: dict[str, Any] | None, path: str) -> None:
        if not isinstance(node, dict):
            return
        driver = node.get("drives") or (node["claims"][0] if node.get("claims") else None)
        if driver and driver != "none":
            out.setdefault(driver, []).append(path)

    for name, par in spec["world"]["parameters"].items():
        if "ablate" in par:
            add(par, f"world.{name}")

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
    """Parameter values: catalog constants, or per-replicate arrays for sampled paths.

    Every parameter is looked up per replicate: a sampled path is an array of shape (R,)
    that broadcasts through every formula, never a batch statistic, so replicate r gives the
    same trajectory alone and inside any batch.
    """

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
        from model.catalog import structural_uncertainty

        for path, (lo, hi) in structural_uncertainty(config.spec).items():
            if path not in declared and path not in fixed:
                uncertainties.append(Uncertainty(path, "uniform", {"low": lo, "high": hi}))
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
                if path.endswith(".lifted"):
                    self.values[path] = True
                elif path.startswith("world."):
                    self.values[path] = float(config.spec["world"]["parameters"][path[6:]]["ablate"])
                else:
                    self.values[path] = 0.0

    def get(self, path: str) -> Value:
        if path in self.values:
            return self.values[path]
        v = get_value(self.spec, path)
        return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else v

    def world(self, name: str) -> Value:
        return self.get(f"world.{name}")


class ParamView(Mapping[str, Any]):
    """Expression parameters: ``{name}`` is the world parameter ``name``, ``{a.b.c}`` any path."""

    def __init__(self, params: Params, local: dict[str, Value] | None = None) -> None:
        self.params = params
        self.local = local or {}

    def __getitem__(self, key: str) -> Any:
        if key in self.local:
            return self.local[key]
        return self.params.get(key if "." in key else f"world.{key}")

    def __iter__(self) -> Any:
        return iter(self.local)

    def __len__(self) -> int:
        return len(self.local)

    def __bool__(self) -> bool:  # a view is never "empty": every world parameter resolves through it
        return True


@dataclass
class ConstraintTable:
    """One constraint applied to one decision unit's options."""

    cid: str
    index: int
    kind: str
    factor: np.ndarray  # (K,) penalty multiplier, 0 where the constraint does not touch the option
    affects: np.ndarray  # (K,) bool
    lifted: Value
    condition: expr.Node | None = None
    penalty: expr.Node | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    stock: int = -1  # world-variable index for cap constraints
    cost: np.ndarray | None = None  # (K,) stock each option consumes


@dataclass
class UnitTable:
    """Everything the decision rule needs about one decision unit: an actor on one track.

    Option 0 is always ``hold`` (doing nothing new on this track).
    """

    unit: int
    index: int  # the actor's index
    name: str  # the actor
    track: str
    options: list[tuple[str, str]]
    rate: Value  # decision opportunities per day
    target: np.ndarray  # (K,) actor index or -1
    effort: np.ndarray
    world_delta: np.ndarray  # (K, V)
    set_mask: np.ndarray  # (K, V) bool
    set_value: np.ndarray  # (K, V)
    rel_delta: np.ndarray  # (K, A): predicted change of relation(actor, X), reactions included
    rel_target: np.ndarray  # (K,) change of relation(actor, target)
    reactions: np.ndarray  # (K, A) change of relation(actor, X) from third parties' reactions
    esc_delta: np.ndarray  # (K,) or (R, K): escalation impulse
    calm: np.ndarray  # (K,) the action's deescalatory points (at the index level calm_reference)
    align: np.ndarray  # (K, S)
    resp: np.ndarray  # (K,)
    answers: np.ndarray  # (K,) how much grievance the option can answer (proportionality cap)
    severity: np.ndarray
    harm: np.ndarray  # (K,) bool
    help: np.ndarray  # (K,) bool
    stance_self: np.ndarray  # (K, S)
    stance_target: np.ndarray  # (K, S)
    rung: np.ndarray  # (K,) int
    goldstein: np.ndarray
    tier: np.ndarray  # (K,) int: the patron's support tier for the client, 0 elsewhere
    direct: np.ndarray  # (K,) bool: direct strike between two war parties
    launches: np.ndarray  # (K,) missiles launched at a defender (to be intercepted)
    ceasefire: np.ndarray  # (K,) bool: the option agrees a ceasefire
    unavailable: np.ndarray  # (K,) bool: options aimed at actors who left the game
    event_only: np.ndarray  # (K,) bool: actions only an event can trigger (a signing scheduled in advance)
    strike: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # (K,) a kinetic attack (fronts)
    opens: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # (K,) opens a decision for those hit
    leverage: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # (K,) effects scale with affinity²
    expect_mask: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))  # (K, V) predicted moves
    expect_value: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (K, V) value each is expected to reach
    delivery: list[dict[str, Any] | None] = field(default_factory=list)  # per option: delayed effects, or None
    predict_delta: np.ndarray = field(
        default_factory=lambda: np.zeros((0, 0))
    )  # (K, V) moves the actor expects, utility only
    has_stance_effects: bool = False
    has_sets: bool = False
    has_reactions: bool = False
    unchoosable: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    delta_cols: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # variables any option moves
    delta_compact: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # world_delta[:, delta_cols]
    violation_issues: list[int] = field(default_factory=list)  # issues whose violation aggrieves (not the axis)
    stance_self_any: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    stance_target_any: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    set_any: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    feature_cols: list[tuple[int, np.ndarray]] = field(default_factory=list)
    set_cols: list[tuple[int, np.ndarray, np.ndarray]] = field(default_factory=list)
    linear: dict[int, Value] = field(default_factory=dict)  # feature -> summed linear weight
    peaks: list[tuple[int, Value, Value, Value]] = field(default_factory=list)  # (f, weight, target, width)
    hinges: list[tuple[int, Value, Value]] = field(default_factory=list)  # (f, weight, threshold)
    floors: list[tuple[int, Value, Value]] = field(default_factory=list)  # (f, weight, floor): costly below it
    response_weight: Value = 0.0
    damped_by: int = -1
    constraints: list[ConstraintTable] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.name}:{self.track}"


@dataclass
class Dynamics:
    """The compiled dynamics of the world variables (see world.yaml's header)."""

    decay: list[tuple[int, str]] = field(default_factory=list)  # (var, half-life parameter)
    revert: list[tuple[int, expr.Node, str]] = field(default_factory=list)  # (var, target, rate parameter)
    rate: list[tuple[int, expr.Node]] = field(default_factory=list)
    noise: list[tuple[int, str]] = field(default_factory=list)
    derived: list[tuple[int, expr.Node]] = field(default_factory=list)
    relation: list[tuple[int, int, int]] = field(default_factory=list)  # (var, actor a, actor b)
    tier: list[tuple[int, int]] = field(default_factory=list)  # (var, actor)
    upper_param: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class Tables:
    """The compiled world: variable and actor indices, option tables, dynamics, roles."""

    variables: list[str]
    var_index: dict[str, int]
    actors: list[str]
    actor_index: dict[str, int]
    issues: list[str]
    lower: np.ndarray
    upper: np.ndarray
    actor_tables: list[UnitTable]  # one per decision unit (actor x track)
    constraint_ids: list[str]
    option_labels: list[tuple[str, str, str]]  # global option index -> (unit, action, target)
    option_offset: list[int]
    names: set[str]
    params: Params
    view: ParamView
    dynamics: Dynamics
    roles: dict[str, Any]
    active: np.ndarray  # (A,) bool: actors still in the game
    n_tiers: int

    @property
    def units(self) -> list[str]:
        return [t.label for t in self.actor_tables]


def _take(spec_a: dict[str, Any], name: str, default: Any) -> Any:
    v = spec_a.get(name, default)
    return default if v is None else v


def _parse(text: Any, names: set[str]) -> expr.Node:
    return expr.parse(str(text), names)


def compile_dynamics(spec: dict[str, Any], vidx: dict[str, int], aidx: dict[str, int], names: set[str]) -> Dynamics:
    """The variables' dynamics, from world.yaml (parsed once per batch)."""
    dyn = Dynamics()
    for v, d in spec["world"]["variables"].items():
        i = vidx[v]
        if "decay" in d:
            dyn.decay.append((i, d["decay"]))
        if "revert" in d:
            dyn.revert.append((i, _parse(d["revert"]["to"], names), d["revert"]["rate"]))
        if "rate" in d:
            dyn.rate.append((i, _parse(d["rate"], names)))
        if "noise" in d:
            dyn.noise.append((i, d["noise"]))
        if "derived" in d:
            dyn.derived.append((i, _parse(d["derived"], names)))
        if "relation" in d:
            a, b = d["relation"].split("-")
            dyn.relation.append((i, aidx[a], aidx[b]))
        if "tier_of" in d:
            dyn.tier.append((i, aidx[d["tier_of"]]))
        if "upper_param" in d:
            dyn.upper_param.append((i, d["upper_param"]))
    return dyn


def compile_tables(config: Config, keys: np.ndarray, reps: np.ndarray, params: Params | None = None) -> Tables:
    """Build the decision units' option tables under this configuration.

    ``params`` is passed when a dated change recompiles the tables mid-run, so that sampled
    values (and earlier changes) carry over.
    """
    spec = plain_copy(config.spec)
    if params is None:
        params = Params(config, keys, reps)
    params.spec = spec
    view = ParamView(params)
    ctx = _context(spec, params)
    variables, actors, issues = list(ctx.vidx), list(ctx.aidx), list(ctx.sidx)
    roles = spec["world"]["roles"]
    hold = roles["hold"]["action"]
    constraint_ids = list(spec["constraints"])
    tables: list[UnitTable] = []
    labels: list[tuple[str, str, str]] = []
    offsets: list[int] = []
    for a in actors:
        for track in spec["world"]["tracks"]:
            opts = [(hold, "none")] + [
                (act, t)
                for act, sa in spec["actions"].items()
                if act != hold and sa.get("track") == track
                for t in sa.get("takers", {}).get(a, [])
            ]
            if len(opts) == 1:
                continue
            tab = _unit_table(ctx, len(tables), a, track, opts)
            offsets.append(len(labels))
            labels += [(tab.label, act, t) for act, t in opts]
            _interests(tab, spec["actors"][a], a, ctx.V, ctx.vidx, ctx.aidx, params, ctx.esc_var)
            _constraints(tab, spec, a, constraint_ids, opts, ctx.vidx, ctx.names, view, params)
            tables.append(tab)
    wv = spec["world"]["variables"]
    return Tables(
        variables=variables,
        var_index=ctx.vidx,
        actors=actors,
        actor_index=ctx.aidx,
        issues=issues,
        lower=np.array([wv[v]["lower"] for v in variables], dtype=float),
        upper=np.array([wv[v]["upper"] for v in variables], dtype=float),
        actor_tables=tables,
        constraint_ids=constraint_ids,
        option_labels=labels,
        option_offset=offsets,
        names=ctx.names,
        params=params,
        view=view,
        dynamics=ctx.dynamics,
        roles=roles,
        active=ctx.active,
        n_tiers=len(spec["world"]["support_tiers"]),
    )


def _context(spec: dict[str, Any], params: Params) -> _Context:
    """Indices, roles and sampled ladder gains every unit's table is compiled against."""
    variables = world_variables(spec)
    vidx = {v: i for i, v in enumerate(variables)}
    actors = list(spec["actors"])
    aidx = {a: i for i, a in enumerate(actors)}
    sidx = {s: i for i, s in enumerate(spec["world"]["issues"])}
    roles = spec["world"]["roles"]
    names = variable_names(spec)
    dynamics = compile_dynamics(spec, vidx, aidx, names)
    return _Context(
        spec=spec,
        V=len(variables),
        A=len(actors),
        S=len(sidx),
        vidx=vidx,
        aidx=aidx,
        sidx=sidx,
        scales=spec["scales"],
        sides=spec["axis"]["sides"],
        parties=set(spec["war_parties"]["actors"]),
        patron=roles["patron"]["actor"],
        client=roles.get("client", {}).get("actor"),
        axis_issue=roles["axis_issue"]["issue"],
        defenders=roles.get("interception", {}).get("defenders", {}),
        esc_gain=params.world("escalation_gain"),
        deesc_gain=params.world("deescalation_gain"),
        exponent=params.world("escalation_exponent"),
        pair_vars={(a, b): i for i, a, b in dynamics.relation} | {(b, a): i for i, a, b in dynamics.relation},
        params=params,
        active=np.array([bool(spec["actors"][a].get("active", True)) for a in actors], dtype=bool),
        esc_var=vidx[roles["escalation"]["var"]],
        fronts=[
            (vidx[f["vars"]["heat"]] if f["vars"].get("heat") else -1, set(f["sides"][0]), set(f["sides"][1]))
            for f in spec["world"].get("fronts", {}).values()
        ],
        names=names,
        dynamics=dynamics,
    )


@dataclass
class _Context:
    """What every decision unit's table is compiled against (one batch, one catalog)."""

    spec: Any
    V: Any
    A: Any
    S: Any
    vidx: Any
    aidx: Any
    sidx: Any
    scales: Any
    sides: Any
    parties: Any
    patron: Any
    axis_issue: Any
    defenders: Any
    esc_gain: Any
    deesc_gain: Any
    exponent: Any
    pair_vars: Any
    params: Any
    active: Any
    esc_var: Any
    fronts: Any = None  # [(heat variable index or -1, side 0 actors, side 1 actors)]
    names: Any = None  # the expression language's names (variables and derived quantities)
    dynamics: Any = None  # the compiled world dynamics
    client: Any = None  # the patron's client (roles.client), whose support tier arms count toward


def _unit_table(ctx: _Context, unit: int, a: str, track: str, opts: list[tuple[str, str]]) -> UnitTable:
    """One decision unit's option table: each option's effects, flags and ladder position as rows."""
    tab = _empty_unit_table(ctx, unit, a, track, opts)
    K = len(opts)
    rungs = np.zeros(K)
    dee = np.zeros(K)
    for k, (act, t) in enumerate(opts):
        sa = ctx.spec["actions"][act]
        rungs[k] = ctx.scales[act]["kahn_rung"]
        dee[k] = float(_take(sa, "deescalatory", 0.0))
        _option_flags(ctx, tab, k, a, act, t)
        _option_effects(ctx, tab, k, a, sa, t)
        _option_alignment(ctx, tab, k, a, sa, t)
    _escalation_impulses(ctx, tab, a, opts, rungs, dee)
    for k, (act, _t) in enumerate(opts):  # utility-only predicted moves of derived quantities (a price)
        for var, d in (_take(ctx.spec["actions"][act], "predicts", {}) or {}).items():
            tab.predict_delta[k, ctx.vidx[var]] += float(d)
    _summaries(ctx, tab)
    return tab


def _empty_unit_table(ctx: _Context, unit: int, a: str, track: str, opts: list[tuple[str, str]]) -> UnitTable:
    """A unit's table with every row at zero: the option loop fills it."""
    K, V, A, S = len(opts), ctx.V, ctx.A, ctx.S
    return UnitTable(
        unit=unit,
        index=ctx.aidx[a],
        name=a,
        track=track,
        options=opts,
        rate=ctx.params.world(ctx.spec["world"]["tracks"][track]["rate"]),
        target=np.array([ctx.aidx.get(t, -1) for _, t in opts], dtype=np.int64),
        effort=np.zeros(K),
        world_delta=np.zeros((K, V)),
        set_mask=np.zeros((K, V), dtype=bool),
        set_value=np.zeros((K, V)),
        rel_delta=np.zeros((K, A)),
        rel_target=np.zeros(K),
        reactions=np.zeros((K, A)),
        esc_delta=np.zeros(K),
        calm=np.zeros(K),
        align=np.zeros((K, S)),
        resp=np.zeros(K),
        answers=np.zeros(K),
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
        ceasefire=np.zeros(K, dtype=bool),
        unavailable=np.zeros(K, dtype=bool),
        event_only=np.zeros(K, dtype=bool),
        strike=np.zeros(K, dtype=bool),
        opens=np.zeros(K, dtype=bool),
        leverage=np.zeros(K, dtype=bool),
        expect_mask=np.zeros((K, V), dtype=bool),
        expect_value=np.zeros((K, V)),
        delivery=[None] * K,
        predict_delta=np.zeros((K, V)),
    )


def _option_flags(ctx: _Context, tab: UnitTable, k: int, a: str, act: str, t: str) -> None:
    """Row k's scalars and flags: effort, severity, polarity, ladder, expectations, delivery."""
    sa, sc, aidx = ctx.spec["actions"][act], ctx.scales[act], ctx.aidx
    tab.effort[k] = float((_take(sa, "effort_by_target", {}) or {}).get(t, _take(sa, "effort", 0.0)))
    tab.resp[k] = float(_take(sa, "response", 0.0))
    tab.severity[k] = float(_take(sa, "severity", 0.0))
    tab.answers[k] = float(_take(sa, "answers", tab.severity[k]))
    pol = _take(sa, "polarity", "neutral")
    tab.harm[k] = pol == "harm"
    tab.help[k] = pol == "help"
    tab.rung[k] = sc["kahn_rung"]
    tab.goldstein[k] = sc["goldstein"]
    tab.direct[k] = bool(_take(sa, "direct_strike", False)) and t in ctx.parties and a in ctx.parties
    tab.strike[k] = bool(_take(sa, "strike", False)) or bool(_take(sa, "direct_strike", False))
    tab.leverage[k] = bool(_take(sa, "leverage", False))
    tab.opens[k] = bool(_take(sa, "opens", False)) and t in aidx
    for var, val in (_take(sa, "expects", {}) or {}).items():
        var = var.replace("{self}", a)
        tab.expect_mask[k, ctx.vidx[var]] = True
        tab.expect_value[k, ctx.vidx[var]] = float(val)
    dlv = _take(sa, "delivery", None)
    if dlv:
        deltas_d: dict[str, float] = dict(dlv.get("effects", {}) or {})
        for var, d in ((dlv.get("by_target", {}) or {}).get(t, {}) or {}).items():
            deltas_d[var] = deltas_d.get(var, 0.0) + d
        vec = np.zeros(ctx.V)
        for var, d in deltas_d.items():
            vec[ctx.vidx[var]] += d
        tier_d = int(dlv.get("tier", 0)) if (a == ctx.patron and t == ctx.client) else 0
        tab.delivery[k] = {"after": dlv["after"], "delta": vec, "tier": tier_d, "action": act}
        tab.predict_delta[k] += vec  # the taker anticipates what it ordered (utility only; it lands on delivery)
    tab.ceasefire[k] = bool(_take(sa, "ceasefire", False))
    # nothing can be done to an actor who left the game, and it does nothing itself
    tab.unavailable[k] = (t in aidx and not ctx.active[aidx[t]]) or (not ctx.active[aidx[a]] and k > 0)
    tab.event_only[k] = bool(_take(sa, "event_only", False))


def _option_effects(ctx: _Context, tab: UnitTable, k: int, a: str, sa: dict[str, Any], t: str) -> None:
    """Row k's moves of world variables, settings and relations (the taker's and third parties')."""
    vidx, aidx = ctx.vidx, ctx.aidx
    deltas: dict[str, float] = dict(_take(sa, "effects", {}))
    for who, eff in (_take(sa, "by_target", {}) or {}).items():
        if who == t:
            for var, d in eff.items():
                deltas[var] = deltas.get(var, 0.0) + d
    for who, eff in (_take(sa, "by_actor", {}) or {}).items():
        if who == a:
            for var, d in eff.items():
                deltas[var] = deltas.get(var, 0.0) + d
    consumed = 0.0
    for var, c in (_take(sa, "cost", {}) or {}).items():
        if var.startswith(f"{a}."):
            deltas[var] = deltas.get(var, 0.0) - c
            consumed += c
    if _take(sa, "launches", False) and t in ctx.defenders:
        tab.launches[k] = consumed
    for var, d in deltas.items():
        tab.world_delta[k, vidx[var]] += d
    sets = dict(_take(sa, "sets", {}))
    sets.update((_take(sa, "by_actor_sets", {}) or {}).get(a, {}))
    for var, val in sets.items():
        tab.set_mask[k, vidx[var]] = True
        tab.set_value[k, vidx[var]] = val
    if t in aidx:
        tab.rel_target[k] = float(_take(sa, "relation", 0.0))
        tab.rel_delta[k, aidx[t]] += tab.rel_target[k]
    for who, d in (_take(sa, "reactions", {}) or {}).items():
        if who != a:
            tab.reactions[k, aidx[who]] += d
            tab.rel_delta[k, aidx[who]] += d
    # a variable that IS this actor's relation with another (cohesion) moves that relation
    for (x, y), vi in ctx.pair_vars.items():
        if x == a and tab.world_delta[k, vi]:
            tab.rel_delta[k, aidx[y]] += tab.world_delta[k, vi]
            tab.rel_target[k] += tab.world_delta[k, vi] if aidx[y] == aidx.get(t, -1) else 0.0
            if aidx[y] != aidx.get(t, -1):
                tab.reactions[k, aidx[y]] += tab.world_delta[k, vi]
            tab.world_delta[k, vi] = 0.0


def _option_alignment(ctx: _Context, tab: UnitTable, k: int, a: str, sa: dict[str, Any], t: str) -> None:
    """Row k's alignment with the issues, its stance effects and the patron's support tier it gives."""
    sidx, axis_issue = ctx.sidx, ctx.axis_issue
    pol = _take(sa, "polarity", "neutral")
    axis_w = float(_take(sa, "axis", 0.0))
    sign = 1.0 if pol == "help" else -1.0 if pol == "harm" else 0.0
    tab.align[k, sidx[axis_issue]] += sign * ctx.sides.get(t, 0) * axis_w
    for issue, w in (_take(sa, "align", {}) or {}).items():
        tab.align[k, sidx[issue]] += w
    st = _take(sa, "stance", {}) or {}
    for issue, d in (st.get("actor") or {}).items():
        tab.stance_self[k, sidx[issue]] += d
    for issue, d in (st.get("target") or {}).items():
        tab.stance_target[k, sidx[issue]] += d
    # the patron's support tier for its client: help given to the client itself, or harm done to the
    # client's adversaries (arms for Syria or for the proxies are not arms for Iran)
    if (
        a == ctx.patron
        and tab.align[k, sidx[axis_issue]] > 0
        and (t == ctx.client or (pol == "harm" and ctx.sides.get(t, 0) < 0))
    ):
        tab.tier[k] = int(_take(sa, "tier", 0))


def _escalation_impulses(
    ctx: _Context, tab: UnitTable, a: str, opts: list[tuple[str, str]], rungs: np.ndarray, dee: np.ndarray
) -> None:
    """Ladder impulses on the escalation index (per replicate when a factor is sampled) and front heat."""
    imp = (rungs / 10.0)[None, :] ** np.atleast_1d(np.asarray(ctx.exponent, dtype=float))[:, None]
    tab.esc_delta = np.atleast_1d(np.asarray(ctx.esc_gain, dtype=float))[:, None] * imp - np.multiply.outer(
        np.atleast_1d(np.asarray(ctx.deesc_gain, dtype=float)), dee
    )
    if tab.esc_delta.shape[0] == 1:
        tab.esc_delta = tab.esc_delta[0]
    tab.calm = dee.copy()
    tab.world_delta[:, ctx.esc_var] = 0.0  # escalation moves only through esc_delta
    # a strike heats the front it is fought on by its ladder impulse (front heat is what a party weighs
    # about its own war, apart from the region's other fronts)
    if not ctx.fronts:
        return
    # the catalog's ladder (never a batch statistic of sampled gains): a front's heat is the same for
    # a replicate alone and in any batch
    wp = ctx.spec["world"]["parameters"]
    imp_k = (
        float(wp["escalation_gain"]["value"]) * (rungs / 10.0) ** float(wp["escalation_exponent"]["value"])
        - float(wp["deescalation_gain"]["value"]) * dee
    )
    for k, (_act, t) in enumerate(opts):
        if not tab.strike[k]:
            continue
        for heat, s0, s1 in ctx.fronts:
            if heat >= 0 and ((a in s0 and t in s1) or (a in s1 and t in s0)):
                tab.world_delta[k, heat] += max(float(imp_k[k]), 0.0)
                break


def _summaries(ctx: _Context, tab: UnitTable) -> None:
    """Flags and compact views the hot path reads instead of scanning the full rows."""
    sidx, S = ctx.sidx, ctx.S
    tab.has_stance_effects = bool(tab.stance_self.any() or tab.stance_target.any())
    tab.has_sets = bool(tab.set_mask.any())
    tab.has_reactions = bool(tab.reactions.any())
    tab.unchoosable = tab.unavailable | tab.event_only
    tab.delta_cols = np.flatnonzero(np.any(tab.world_delta != 0, axis=0))
    tab.delta_compact = tab.world_delta[:, tab.delta_cols]
    quiet = {sidx[i] for i, d in ctx.spec["world"]["issues"].items() if d.get("aggrieves", True) is False}
    tab.violation_issues = [
        s for s in range(S) if s != sidx[ctx.axis_issue] and s not in quiet and np.any(tab.align[:, s] < 0)
    ]
    tab.stance_self_any = tab.stance_self.any(axis=1)
    tab.stance_target_any = tab.stance_target.any(axis=1)
    tab.set_any = tab.set_mask.any(axis=1)


def _interests(
    tab: UnitTable,
    actor: dict[str, Any],
    a: str,
    V: int,
    vidx: dict[str, int],
    aidx: dict[str, int],
    params: Params,
    esc_var: int,
) -> None:
    for term, it in actor["interests"].items():
        var = it["var"]
        f = V + aidx[var.split(".", 1)[1]] if var.startswith("relation.") else vidx[var]
        w = params.get(f"actors.{a}.interests.{term}.weight")
        if it["kind"] == "linear":
            tab.linear[f] = tab.linear.get(f, 0.0) + w
        elif it["kind"] == "above":
            tab.hinges.append((f, w, params.get(f"actors.{a}.interests.{term}.threshold")))
        elif it["kind"] == "below":
            tab.floors.append((f, w, params.get(f"actors.{a}.interests.{term}.threshold")))
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
    interest_features = (
        set(tab.linear) | {p[0] for p in tab.peaks} | {h[0] for h in tab.hinges} | {h[0] for h in tab.floors}
    )
    for f in sorted(interest_features):
        if f == esc_var:
            col = tab.esc_delta
        elif f < V:
            col = tab.world_delta[:, f] + tab.predict_delta[:, f]
        else:
            col = tab.rel_delta[:, f - V]
        if np.any(col != 0):
            tab.feature_cols.append((f, col))
        if f < V and tab.set_mask[:, f].any():
            tab.set_cols.append((f, tab.set_mask[:, f], tab.set_value[:, f]))
        if f < V and tab.expect_mask[:, f].any():
            tab.set_cols.append((f, tab.expect_mask[:, f], tab.expect_value[:, f]))


def _constraints(
    tab: UnitTable,
    spec: dict[str, Any],
    a: str,
    constraint_ids: list[str],
    opts: list[tuple[str, str]],
    vidx: dict[str, int],
    names: set[str],
    view: ParamView,
    params: Params,
) -> None:
    for ci, cid in enumerate(constraint_ids):
        con = spec["constraints"][cid]
        if con["actor"] != a:
            continue
        acts = con["actions"]
        factors = acts if isinstance(acts, dict) else {x: 1.0 for x in acts}
        only = con.get("targets")  # a constraint may apply to some targets only (a front's ceasefire)
        factor = np.array([float(factors.get(act, 0.0)) if (not only or t in only) else 0.0 for act, t in opts])
        if not factor.any():
            continue
        local = {p: params.get(f"constraints.{cid}.{p}") for p in (con.get("params") or {})}
        lifted = params.values.get(f"constraints.{cid}.lifted", bool(con.get("lifted", False)))
        ct = ConstraintTable(
            cid=cid,
            index=ci,
            kind=con["kind"],
            factor=np.abs(factor),
            affects=factor != 0,
            lifted=lifted,
            params=ParamView(params, local),
        )
        if "condition" in con:
            ct.condition = expr.parse(con["condition"], names)
        if "penalty" in con:
            ct.penalty = expr.parse(con["penalty"], names)
        if con["kind"] == "cap":
            ct.stock = vidx[con["stock"]]
            ct.cost = -tab.world_delta[:, ct.stock] * ct.affects
        tab.constraints.append(ct)


def inert_interests(tables: Tables, spec: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The interests no feasible option of their actor is predicted to move: (actor, interest, variable).

    Why: an actor weighs an option by the predicted change of its interests, so an interest in a
    variable none of its own feasible options moves never reaches a decision: its weight, its claim
    and its sign could be anything (issue 20: Russia's oil-revenue interest, C50, flipped changed none
    of 32 outcomes; its only option that moves the oil premium is forbidden). Such an interest is either
    a gap (the actor lacks the option the claim implies) or context that other mechanisms read; the
    test that calls this keeps the list explicit. Feasible: choosable, and not under a constraint of
    kind ``forbid``.
    """
    forbidden: dict[str, set[str]] = {}
    for con in spec["constraints"].values():
        if con.get("kind") == "forbid" and not con.get("lifted", False):
            acts = con["actions"]
            forbidden.setdefault(con["actor"], set()).update(acts if not isinstance(acts, dict) else acts.keys())
    esc = tables.var_index[tables.roles["escalation"]["var"]]
    out = []
    for a, actor in spec["actors"].items():
        units = [u for u in tables.actor_tables if u.name == a]
        if not units:
            continue
        for name, it in actor["interests"].items():
            var = it["var"]
            moved = False
            for u in units:
                ok = ~np.asarray(u.unchoosable, dtype=bool) & np.array(
                    [act not in forbidden.get(a, set()) and act != "hold" for act, _t in u.options]
                )
                if var.startswith("relation."):
                    other = tables.actor_index.get(var.split(".", 1)[1])
                    col = u.rel_delta[:, other] if other is not None else np.zeros(len(u.options))
                elif tables.var_index[var] == esc:
                    col = np.asarray(u.esc_delta) if np.ndim(u.esc_delta) == 1 else np.asarray(u.esc_delta)[0]
                else:
                    f = tables.var_index[var]
                    col = u.world_delta[:, f] + u.predict_delta[:, f] + u.set_mask[:, f] + u.expect_mask[:, f]
                moved = moved or bool(np.any((col != 0) & ok))
            if not moved:
                out.append((a, name, var))
    return out
