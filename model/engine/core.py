"""The decision core: one global option table, one utility pass, one gather and one scatter of effects.

Every decision unit's options (an actor on a track: ``hold`` plus its catalogue actions times their
targets) are the rows of one table of N options. At a moment, the units due to decide are decided
together, for the replicates in which any of them is due:

1. **One utility pass** over (replicates x options): the static part (effort and the linear interests
   of constant effects, computed once per batch and after a dated change), the state-dependent
   interests (peaks, hinges, floors, sets and expected moves), the stance term, the proportionate
   answer to grievances, minus the constraint costs.
2. **Feasibility** from the forbid, gate and cap constraints and from who is still in the game.
3. **Choice** per unit: the logit rule drawn with the Gumbel-max trick on replicate-keyed noise (an
   argmax over each unit's block of the table), a tremble (C59), or the option an event forces.
4. **Effects** (:class:`Effects`): the chosen options as a one-hot matrix (replicates x options)
   multiplied into effect tables (world deltas, relation and stance changes, grievances, discharges,
   strikes per front, interceptions, ceasefire offers, openings): sums, so no unit acts "before" another.

The noise of an option is keyed by its label (actor, track, action, target) and the day, never by its
position in the table, so listing actors or actions in another order changes no draw.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from model import expr
from model.engine import rng
from model.engine.tables import Tables, UnitTable

NEG = -np.inf


def label_id(text: str) -> int:
    """A stable 64-bit id of a label (two CRC32s), for keying random draws by name, not position."""
    b = text.encode()
    return (zlib.crc32(b) << 32) | zlib.crc32(b[::-1] + b"#")


def take_rows(v: Any, rows: Any) -> Any:
    """A per-replicate (R, ...) value restricted to some replicates; scalars pass through."""
    return v[rows] if isinstance(v, np.ndarray) and v.ndim >= 1 else v


def pair_take(ledger: np.ndarray, rows: Any, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """``ledger[rows][:, i, j]`` for an (R, A, A) ledger, without copying the rows' whole (A, A) blocks."""
    A = ledger.shape[1]
    r = np.arange(ledger.shape[0])[rows] if isinstance(rows, slice) else np.asarray(rows)
    return ledger.reshape(-1)[(r * (A * A))[:, None] + (np.asarray(i) * A + np.asarray(j))[None, :]]


def col(v: Any) -> Any:
    """A per-replicate (n,) value as a column for (n, K) arithmetic; scalars pass through."""
    return v[:, None] if isinstance(v, np.ndarray) and v.ndim == 1 else v


class RowView:
    """A parameter view restricted to some replicates (sampled values are (R,) arrays)."""

    def __init__(self, view: Any, rows: Any) -> None:
        self.view, self.rows = view, rows

    def __getitem__(self, key: str) -> Any:
        return take_rows(self.view[key], self.rows)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default


@dataclass
class GConstraint:
    """A constraint as it applies to the global option table."""

    cid: str
    index: int  # bit in the binding mask
    kind: str
    cols: np.ndarray  # global option indices it touches
    factor: np.ndarray  # (len(cols),) cost multiplier
    lifted: Any
    condition: expr.Node | None
    penalty: expr.Node | None
    params: Any
    stock: int = -1
    cost: np.ndarray | None = None  # (len(cols),) stock consumed by each option (caps)


@dataclass
class Term:
    """A state-dependent utility term: one actor's interest on one feature, over one unit's options."""

    cols: slice  # the unit's global options
    feature: int  # < V: world variable; >= V: relation with actor (feature - V)
    kind: str  # peak, above, below, linear (linear only for state-dependent deltas: sets and expected moves)
    weight: Any
    a: Any = 0.0  # peak target or hinge threshold
    b: Any = 1.0  # peak width
    delta: np.ndarray | None = None  # (K,) or (R, K): a constant predicted change
    mask: np.ndarray | None = None  # (K,) options that set the feature (delta = value - x)
    value: np.ndarray | None = None


@dataclass
class OptionTable:
    """Every decision unit's options as rows of one table (built from the per-unit tables)."""

    units: list[UnitTable]
    N: int
    U: int
    A: int
    V: int
    S: int
    offset: np.ndarray  # (U,) first global option of each unit
    size: np.ndarray  # (U,) options per unit
    unit_of: np.ndarray  # (N,)
    actor_of: np.ndarray  # (N,)
    unit_actor: np.ndarray  # (U,)
    target: np.ndarray  # (N,) actor index or -1
    tsafe: np.ndarray  # (N,) target or 0
    has_t: np.ndarray  # (N,) bool
    hold: np.ndarray  # (U,) global index of each unit's hold
    ids: np.ndarray  # (N,) uint64 label ids (random draws)
    unit_ids: np.ndarray  # (U,) uint64 label ids
    canon: np.ndarray  # (U,) units in canonical (label) order: effects are summed in this order
    local_rank: np.ndarray  # (N,) rank of each option within its unit by label (tremble picks count in this order)
    rung: np.ndarray
    effort: np.ndarray
    front: np.ndarray  # (N,) front of a strike or a ceasefire offer, -1 otherwise
    side: np.ndarray  # (N,) the acting side (0 or 1) on that front
    strike: np.ndarray  # (N,) bool
    opens: np.ndarray  # (N,) bool: a strike that opens a decision for those it concerns
    world_delta: np.ndarray  # (N, V)
    moved: np.ndarray  # variables any option moves
    world_delta_moved: np.ndarray  # (N, len(moved)) world_delta[:, moved]
    set_vars: list[tuple[int, np.ndarray, np.ndarray]]  # (var, options that set it, values)
    set_pos: dict[int, np.ndarray]  # var -> (N,) position of each option in its set list, -1 if it does not set it
    esc_delta: np.ndarray  # (N,) or (R, N)
    calm: np.ndarray  # (N,) deescalatory points of each option (at the index level calm_reference)
    align: np.ndarray  # (N, S)
    stance_self: np.ndarray
    stance_target: np.ndarray
    severity: np.ndarray
    harm: np.ndarray
    help: np.ndarray
    resp: np.ndarray
    answers: np.ndarray
    rel_target: np.ndarray
    reactions: np.ndarray  # (N, A)
    leverage: np.ndarray  # (N,) bool
    tier: np.ndarray
    goldstein: np.ndarray
    launches: np.ndarray
    ceasefire: np.ndarray  # (N,) bool
    unchoosable: np.ndarray
    unavailable: np.ndarray
    event_only: np.ndarray
    delivery: np.ndarray  # (N,) pipeline index or -1
    pipelines: list[dict[str, Any]]
    constraints: list[GConstraint] = field(default_factory=list)
    terms: list[Term] = field(default_factory=list)
    static: Any = None  # (N,) or (R, N)
    resp_cols: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    response_weight: list[Any] = field(default_factory=list)  # per actor
    damped_by: np.ndarray | None = None  # (A,) variable index or -1
    violation_issues: list[int] = field(default_factory=list)
    align_issues: list[int] = field(default_factory=list)
    stance_terms: list[tuple[slice, int, int, np.ndarray]] = field(default_factory=list)  # (cols, actor, issue, align)
    delta_ptr: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))  # sparse world deltas (CSR)
    delta_var: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    delta_val: np.ndarray = field(default_factory=lambda: np.zeros(0))
    esc_var: int = -1  # the escalation index's variable (calming options move it by a share of its level)
    calm_linear: list[tuple[np.ndarray, Any]] = field(default_factory=list)  # (calming cols, linear weight)
    blocks: list[tuple[np.ndarray, np.ndarray, int]] = field(default_factory=list)  # (units, their cols, size)
    reacts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # (N,) moves a third party's relation
    moves_own_stance: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # (N,)
    moves_target_stance: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # (N,)

    def unit_cols(self, u: int) -> slice:
        return slice(int(self.offset[u]), int(self.offset[u] + self.size[u]))


def build(tables: Tables, fronts: list[tuple[set[int], set[int]]]) -> OptionTable:
    """Concatenate the per-unit tables into the global option table.

    ``fronts`` lists each front's two sides as sets of actor indices: a strike (or a ceasefire offer)
    by an actor of one side aimed at an actor of the other belongs to that front.

    Longer than 80 lines for a reason: the OptionTable call names every field of the global table once,
    in one place a reader can check against the dataclass; the work is in the helpers below.
    """
    units = tables.actor_tables
    U, A, V, S = len(units), len(tables.actors), len(tables.variables), len(tables.issues)
    sizes = np.array([len(t.options) for t in units], dtype=np.int64)
    offset = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    N = int(sizes.sum())

    def cat(name: str) -> np.ndarray:
        return np.concatenate([np.asarray(getattr(t, name)) for t in units])

    unit_of = np.repeat(np.arange(U), sizes)
    actor_of = np.repeat(np.array([t.index for t in units], dtype=np.int64), sizes)
    target = cat("target")
    labels = [f"{t.name}:{t.track}:{act}:{tg}" for t in units for act, tg in t.options]
    strike = cat("strike")
    ceasefire = cat("ceasefire")
    front, side = _fronts_of(actor_of, target, strike | ceasefire, fronts)
    world_delta = np.concatenate([t.world_delta for t in units])
    set_mask = np.concatenate([t.set_mask for t in units])
    set_value = np.concatenate([t.set_value for t in units])
    esc_delta = _stack_impulses(units)
    pipelines, delivery = _pipelines(units, offset, N)
    align = np.concatenate([t.align for t in units])
    table = OptionTable(
        units=units,
        N=N,
        U=U,
        A=A,
        V=V,
        S=S,
        offset=offset,
        size=sizes,
        unit_of=unit_of,
        actor_of=actor_of,
        unit_actor=np.array([t.index for t in units], dtype=np.int64),
        target=target,
        tsafe=np.where(target >= 0, target, 0),
        has_t=target >= 0,
        hold=offset.copy(),
        ids=np.array([label_id(x) for x in labels], dtype=np.uint64),
        unit_ids=np.array([label_id(t.label) for t in units], dtype=np.uint64),
        canon=np.array(sorted(range(U), key=lambda u: units[u].label), dtype=np.int64),
        local_rank=np.concatenate(
            [np.argsort(np.argsort([f"{a}:{tg}" for a, tg in t.options], kind="stable")) for t in units]
        ).astype(np.int64),
        rung=cat("rung"),
        effort=cat("effort"),
        front=front,
        side=side,
        strike=strike,
        opens=cat("opens"),
        world_delta=world_delta,
        moved=(moved := np.flatnonzero(np.any(world_delta != 0, axis=0))),
        world_delta_moved=world_delta[:, moved].copy(),
        set_vars=(
            set_vars := [
                (j, np.flatnonzero(set_mask[:, j]), set_value[set_mask[:, j], j])
                for j in range(V)
                if set_mask[:, j].any()
            ]
        ),
        set_pos={j: _positions(cols, N) for j, cols, _ in set_vars},
        esc_delta=esc_delta,
        calm=np.concatenate([np.asarray(t.calm, dtype=float) for t in units]),
        align=align,
        stance_self=np.concatenate([t.stance_self for t in units]),
        stance_target=np.concatenate([t.stance_target for t in units]),
        severity=cat("severity"),
        harm=cat("harm"),
        help=cat("help"),
        resp=cat("resp"),
        answers=cat("answers"),
        rel_target=cat("rel_target"),
        reactions=np.concatenate([t.reactions for t in units]),
        leverage=cat("leverage"),
        tier=cat("tier"),
        goldstein=cat("goldstein"),
        launches=cat("launches"),
        ceasefire=ceasefire,
        unchoosable=cat("unchoosable"),
        unavailable=cat("unavailable"),
        event_only=cat("event_only"),
        delivery=delivery,
        pipelines=pipelines,
    )
    _index_terms(table, align, world_delta)
    table.blocks = _blocks(offset, sizes)
    # which options have any entry in their (N, A) or (N, S) rows: the effects gather only those rows
    table.reacts = table.reactions.any(axis=1)
    table.moves_own_stance = table.stance_self.any(axis=1)
    table.moves_target_stance = table.stance_target.any(axis=1)
    table.constraints = _gather_constraints(units, offset)
    table.esc_var = int(tables.var_index[tables.roles["escalation"]["var"]])
    refresh(table)
    return table


def _blocks(offset: np.ndarray, sizes: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, int]]:
    """The units grouped by their number of options, with their options' columns in unit order.

    Why: the best option of every unit of one size is one argmax over a (replicates, units, size)
    gather, with no padding to the largest unit (two thirds of a padded block were padding).
    """
    out = []
    for k in np.unique(sizes):
        us = np.flatnonzero(sizes == k)
        cols = (offset[us][:, None] + np.arange(k)[None, :]).ravel()
        out.append((us, cols, int(k)))
    return out


def set_active(table: OptionTable, active: np.ndarray) -> None:
    """Make the options of actors who left the game, and those aimed at them, unavailable (in place).

    Why in place: an actor leaving (Assad's fall, 8 December 2024) is a dated change of who is in
    the game, not of the catalog: every option keeps its row and only its availability changes, so
    a dated change does not rebuild the tables (engine-core issue, section 2). Holds stay available.
    """
    hold = np.zeros(table.N, dtype=bool)
    hold[table.hold] = True
    table.unavailable = (table.has_t & ~active[table.tsafe]) | (~active[table.actor_of] & ~hold)
    table.unchoosable = table.unavailable | table.event_only


def _fronts_of(
    actor_of: np.ndarray, target: np.ndarray, on_front: np.ndarray, fronts: list[tuple[set[int], set[int]]]
) -> tuple[np.ndarray, np.ndarray]:
    """Each strike's or ceasefire offer's front (-1: none) and the side its taker is on."""
    front = np.full(len(target), -1, dtype=np.int64)
    side = np.zeros(len(target), dtype=np.int64)
    for o in np.flatnonzero(on_front & (target >= 0)):
        a, t = int(actor_of[o]), int(target[o])
        for f, (s0, s1) in enumerate(fronts):
            if (a in s0 and t in s1) or (a in s1 and t in s0):
                front[o], side[o] = f, 0 if a in s0 else 1
                break
    return front, side


def _stack_impulses(units: list[Any]) -> np.ndarray:
    """The ladder impulses of every option: (N,), or (replicates, N) when any unit's gain is sampled."""
    esc = [np.asarray(t.esc_delta, dtype=float) for t in units]
    if any(e.ndim == 2 for e in esc):
        R = max(e.shape[0] for e in esc if e.ndim == 2)
        return np.concatenate([np.broadcast_to(e, (R, e.shape[-1])) for e in esc], axis=1)
    return np.concatenate(esc)


def _pipelines(units: list[Any], offset: np.ndarray, N: int) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Delivery pipelines (one per taker, order and recipient) and each option's pipeline (-1: none)."""
    pipelines: list[dict[str, Any]] = []
    delivery = np.full(N, -1, dtype=np.int64)
    by_key: dict[str, int] = {}
    for u, t in enumerate(units):
        for k, d in enumerate(t.delivery):
            if d is None:
                continue
            key = f"{t.name}:{d['action']}:{t.options[k][1]}"
            if key not in by_key:
                by_key[key] = len(pipelines)
                pipelines.append(
                    {"cols": [], "after": d["after"], "delta": d["delta"], "tier": d["tier"], "label": key}
                )
            pipelines[by_key[key]]["cols"].append(int(offset[u] + k))
            delivery[offset[u] + k] = by_key[key]
    for p in pipelines:
        p["cols"] = np.asarray(p["cols"], dtype=np.int64)
    return pipelines, delivery


def _index_terms(table: OptionTable, align: np.ndarray, world_delta: np.ndarray) -> None:
    """Sparse views the hot path reads: issues any option aligns with, stance terms, moved variables."""
    units, S, N = table.units, table.S, table.N
    table.violation_issues = sorted({s for t in units for s in t.violation_issues})
    table.align_issues = [s for s in range(S) if np.any(align[:, s] != 0)]
    for u, t in enumerate(units):
        cs = table.unit_cols(u)
        for si in range(S):
            if np.any(align[cs, si] != 0):
                table.stance_terms.append((cs, t.index, si, align[cs, si].copy()))
    nz = [np.flatnonzero(world_delta[o]) for o in range(N)]
    table.delta_ptr = np.concatenate([[0], np.cumsum([len(v) for v in nz])]).astype(np.int64)
    table.delta_var = np.concatenate(nz).astype(np.int64) if N else np.zeros(0, dtype=np.int64)
    table.delta_val = world_delta[np.repeat(np.arange(N), [len(v) for v in nz]), table.delta_var]
    table.resp_cols = np.flatnonzero((table.resp != 0) & table.has_t)


def _gather_constraints(units: list[Any], offset: np.ndarray) -> list[GConstraint]:
    """The units' constraints on global columns; one constraint on several of an actor's tracks is one."""
    by_cid: dict[int, GConstraint] = {}
    for u, t in enumerate(units):
        for ct in t.constraints:
            cols = np.flatnonzero(ct.affects) + offset[u]
            fac = ct.factor[ct.affects]
            cost = ct.cost[ct.affects] if ct.cost is not None else None
            g = by_cid.get(ct.index)
            if g is None:
                by_cid[ct.index] = GConstraint(
                    ct.cid, ct.index, ct.kind, cols, fac, ct.lifted, ct.condition, ct.penalty, ct.params, ct.stock, cost
                )
            else:  # one constraint on several of an actor's tracks
                g.cols = np.concatenate([g.cols, cols])
                g.factor = np.concatenate([g.factor, fac])
                if cost is not None and g.cost is not None:
                    g.cost = np.concatenate([g.cost, cost])
    return [by_cid[i] for i in sorted(by_cid)]


def _positions(cols: np.ndarray, N: int) -> np.ndarray:
    pos = np.full(N, -1, dtype=np.int64)
    pos[cols] = np.arange(len(cols))
    return pos


def refresh(table: OptionTable) -> None:
    """The parameter-dependent parts of the utility, computed once per batch (and after a dated change).

    The static part holds the effort and every linear interest of a constant predicted change; the
    terms hold what depends on the state (peaks, hinges, floors, sets and expected moves).
    """
    static: Any = -table.effort.astype(float)
    terms: list[Term] = []
    calm_linear: list[tuple[np.ndarray, Any]] = []
    rw: list[Any] = [0.0] * table.A
    damped = np.full(table.A, -1, dtype=np.int64)
    for u, t in enumerate(table.units):
        cols = table.unit_cols(u)
        rw[t.index] = t.response_weight
        damped[t.index] = t.damped_by
        peaks: dict[int, list[tuple[Any, Any, Any]]] = {}
        for f, w, tg, wd in t.peaks:
            peaks.setdefault(f, []).append(("peak", w, tg, wd))
        for f, w, h in t.hinges:
            peaks.setdefault(f, []).append(("above", w, h, 1.0))
        for f, w, h in t.floors:
            peaks.setdefault(f, []).append(("below", w, h, 1.0))
        for f, delta in t.feature_cols:
            w = t.linear.get(f)
            if w is not None:
                add = col(w) * delta if (isinstance(w, np.ndarray) or np.ndim(delta) == 2) else w * delta
                if np.ndim(add) == 2 and np.ndim(static) == 1:
                    static = np.broadcast_to(static, (add.shape[0], table.N)).copy()
                if np.ndim(static) == 2:
                    static[:, cols] += add if np.ndim(add) == 2 else add[None, :]
                else:
                    static[cols] += add
                if f == table.esc_var:  # the static part assumed a calming option's points at calm_reference
                    calming = np.flatnonzero(table.calm[cols] > 0) + cols.start
                    if len(calming):
                        calm_linear.append((calming, w))
            for kind, w2, a2, b2 in peaks.get(f, ()):
                terms.append(Term(cols, f, kind, w2, a2, b2, delta=delta))
        for f, mask, value in t.set_cols:
            w = t.linear.get(f)
            if w is not None:
                terms.append(Term(cols, f, "linear", w, mask=mask, value=value))
            for kind, w2, a2, b2 in peaks.get(f, ()):
                terms.append(Term(cols, f, kind, w2, a2, b2, mask=mask, value=value))
    table.static = static
    table.terms = terms
    table.calm_linear = calm_linear
    table.response_weight = rw
    table.damped_by = damped


def _interest_change(kind: str, x: np.ndarray, d: Any, w: Any, a: Any, b: Any) -> Any:
    """The change of one interest when its feature moves from x (n, 1) by d (n, K) or (K,)."""
    if kind == "linear":
        return w * d
    if kind == "peak":
        return -w / b**2 * (2.0 * (x - a) * d + d * d)
    if kind == "above":
        return -w * (np.maximum(x + d - a, 0.0) - np.maximum(x - a, 0.0))
    return -w * (np.maximum(a - x - d, 0.0) - np.maximum(a - x, 0.0))  # below


@dataclass
class Choice:
    """The decisions of one moment, for the replicates that decided (rows)."""

    rows: np.ndarray  # (n,) replicate indices
    g: np.ndarray  # (n, U) global option chosen (the unit's hold when it did not decide)
    local: np.ndarray  # (n, U) option within the unit
    bound: np.ndarray  # (n, U) int64 bitmask of constraints that bound
    forced: np.ndarray  # (n, U) bool: an event imposed the choice
    blocked: np.ndarray  # (n, U) bool: an event was refused by a constraint
    trembled: np.ndarray  # (n, U) bool
    due: np.ndarray  # (n, U) bool: the unit decided (cycle point or opening) or an event was due
    detail: dict[str, Any] | None = None


@dataclass
class Decision:
    """One unit's decision at one moment, for every replicate of the batch (detail mode)."""

    choice: np.ndarray  # (R,) chosen option (local index; 0 = hold)
    bound: np.ndarray  # (R,) int64 bitmask of constraints that bound (by global constraint index)
    forced: np.ndarray  # (R,) bool: an event imposed the choice
    trembled: np.ndarray  # (R,) bool
    detail: dict[str, Any] | None = None
    idle: np.ndarray | None = None  # (R,) bool: the unit did not decide at this moment


def unit_decisions(table: OptionTable, c: Choice) -> list[Decision]:
    """A moment's decisions (all replicates) split into one record per unit, as explain reads them."""
    out = []
    d = c.detail
    # the units each constraint's options belong to: a unit is looked at only for the few that touch it
    touches = {ci: set(table.unit_of[cols].tolist()) for ci, cols in d["cols"].items()} if d is not None else {}
    for u in range(table.U):
        cs = table.unit_cols(u)
        det = None
        if d is not None:
            hits = {}
            for ci, h in d["hits"].items():
                if u not in touches[ci]:
                    continue
                cols = d["cols"][ci]
                block = np.zeros((len(c.rows), int(table.size[u])), dtype=bool)
                inside = (cols >= cs.start) & (cols < cs.stop)
                block[:, cols[inside] - cs.start] = h[:, inside]
                hits[ci] = block
            det = {
                "utility": d["utility"][:, cs],
                "utility_free": d["utility_free"][:, cs],
                "feasible": d["feasible"][:, cs],
                "free": d["free"][:, u],
                "hits": hits,
                "event_blocked": c.blocked[:, u],
            }
        out.append(
            Decision(
                choice=c.local[:, u],
                bound=c.bound[:, u],
                forced=c.forced[:, u],
                trembled=c.trembled[:, u],
                detail=det,
                idle=~c.due[:, u],
            )
        )
    return out


class Decider:
    """Decides the due units of a moment on the global table, reading the model's state."""

    def __init__(self, model: Any, table: OptionTable) -> None:
        self.m = model
        self.t = table
        self._taste: np.ndarray | None = None
        self._logk: np.ndarray | None = None
        self._state_rungs: np.ndarray | None = None
        self._reluctance: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._calming: tuple[np.ndarray, np.ndarray] | None = None
        self._attack_answers: np.ndarray | None = None
        self._charged: np.ndarray | None = None

    def taste(self, rows: Any) -> Any:
        """Each replicate's own, lasting preference for each option (normal, sd ``taste_spread``).

        It is the part of what actors want that the catalog cannot pin down, drawn once per
        replicate and option; holding is the reference (0).

        Why: the weekly choice noise is independent from one decision to the next, so over a window
        of many decisions it averages out and a mildly attractive option becomes a near-certainty.
        What an analyst does not know about an actor's preferences does not change weekly: a
        replicate whose Iran cares more for a Gulf strike keeps caring more. Drawn by option label
        (not position), so a replicate's tastes do not depend on the batch or the listing order.
        """
        sd = take_rows(self.m.tables.params.world("taste_spread"), rows)
        if np.ndim(sd) == 0 and float(sd) == 0.0:
            return 0.0
        if self._taste is None:
            z = rng.normals_ids(self.m.keys, 0, "taste", self.t.ids)
            z[:, self.t.hold] = 0.0
            self._taste = z
        return self._taste[rows] * col(sd)

    def charged_cols(self) -> np.ndarray:
        """The options some cost constraint can charge (the rest are never charged)."""
        if self._charged is None:
            cols = [ct.cols for ct in self.t.constraints if ct.kind == "cost"]
            self._charged = np.unique(np.concatenate(cols)) if cols else np.zeros(0, dtype=np.int64)
        return self._charged

    def set_active(self, active: np.ndarray) -> None:
        """Who is in the game changed (a dated change): the table's availability, and the option count it caches."""
        set_active(self.t, active)
        self._logk = None

    def log_options(self) -> np.ndarray:
        """(N,) log of the number of actions its unit can choose from, on each action's column (0 on holds).

        Why: a logit choice spreads its weight over every option, so a unit with twelve mildly useful
        actions acts far more often than one with two, for no reason the catalog states. Charging each
        action ``option_dilution * T * log K`` makes the chance of acting at all that of one action
        with the options' log-mean-exp utility (at 1: the number of targets listed no longer matters).
        """
        if self._logk is None:
            t = self.t
            ok = ~(t.unchoosable | np.broadcast_to(t.unavailable, t.unchoosable.shape))
            ok = ok.copy()
            ok[t.hold] = False
            k = np.bincount(t.unit_of, weights=ok.astype(float), minlength=t.U)
            logk = np.log(np.maximum(k, 1.0))[t.unit_of]
            logk[t.hold] = 0.0
            self._logk = logk
        return self._logk

    # ------------------------------------------------------------------ utilities
    def utilities(self, rows: Any, n: int) -> np.ndarray:
        """Unconstrained utility of every option, (n, N), in the replicates ``rows``."""
        m, t = self.m, self.t
        V = t.V
        U = np.empty((n, t.N))
        U[:] = take_rows(t.static, rows) if np.ndim(t.static) == 2 else t.static
        x = m.x[rows]
        rel = m.rel[rows]
        calm_fix = self.calm_correction(rows, x)
        if calm_fix is not None:
            pos = self.calming_cols()[1]
            for cols, w in t.calm_linear:
                U[:, cols] += col(take_rows(w, rows)) * calm_fix[:, pos[cols]]
        for term in t.terms:
            acts = t.unit_actor[t.unit_of[term.cols.start]]
            xf = x[:, term.feature] if term.feature < V else rel[:, acts, term.feature - V]
            xf = xf[:, None]
            if term.mask is not None:
                d = np.where(term.mask, term.value - xf, 0.0)
            else:
                d = take_rows(term.delta, rows) if np.ndim(term.delta) == 2 else term.delta
                if term.feature == t.esc_var and calm_fix is not None:
                    d = d + self._calm_delta(calm_fix, term.cols)
            U[:, term.cols] += _interest_change(
                term.kind,
                xf,
                d,
                col(take_rows(term.weight, rows)),
                col(take_rows(term.a, rows)),
                col(take_rows(term.b, rows)),
            )
        sw = col(take_rows(m.tables.params.world("stance_weight"), rows))
        stance = m.stance[rows]
        for cs, a, si, al in t.stance_terms:
            U[:, cs] += (sw * stance[:, a, si : si + 1]) * al
        rc = t.resp_cols
        if len(rc):
            a_of, tg = t.actor_of[rc], t.target[rc]
            rw = np.empty((n, len(rc)))
            for a in np.unique(a_of):
                w = take_rows(t.response_weight[a], rows)
                if t.damped_by[a] >= 0:
                    w = w * (1.0 - x[:, t.damped_by[a]])
                rw[:, a_of == a] = col(w) if np.ndim(w) else w
            G = pair_take(m.griev, rows, tg, a_of)
            att = self.attack_answers()
            share = take_rows(m.tables.params.world("attack_answer_share"), rows)
            if len(att) and (np.ndim(share) or float(share) != 1.0):
                # an attack answers attacks: of the grievance left by slights, sanctions and nuclear steps it
                # answers only this share (proportionality: Israel answered enrichment with covert acts)
                Ga = pair_take(m.griev_attack, rows, tg[att], a_of[att])
                G[:, att] = Ga + col(share) * (G[:, att] - Ga)
            Gm = np.minimum(G, t.answers[rc])
            U[:, rc] += rw * (Gm * t.resp[rc])
        # the status quo needs no decision: holding gains this much over every action, so a government
        # acts when something gives it a reason, not because one of many mildly useful acts is on offer
        sq = take_rows(m.tables.params.world("status_quo"), rows)
        if np.ndim(sq) or float(sq) != 0.0:
            U[:, t.hold] += col(sq) if np.ndim(sq) else sq
        # crossing into direct attack needs a reason (Kahn): a state's option at or above reluctance_rung
        # costs this much per rung/9, so interests alone rarely carry a strike and a grievance usually does
        er = take_rows(m.tables.params.world("escalation_reluctance"), rows)
        if np.ndim(er) or float(er) != 0.0:
            cols, base, rpos = self.reluctance_cols()  # only the few attack columns, not every option
            cost = np.broadcast_to(base, (n, len(cols)))
            hit = rpos >= 0
            if hit.any():
                # a grievance the act can answer is the reason the ladder asks for: the reluctance falls
                # with the share of the act's proportionate answer that is owed (all of it: none left)
                # only a grievance left by direct attacks is such a reason: slights, sanctions and nuclear
                # steps make a strike attractive (the answer term above) but do not waive the ladder
                r = rpos[hit]
                ans = t.answers[rc][r]
                Ga = np.minimum(pair_take(m.griev_attack, rows, tg[r], a_of[r]), ans)
                owed = np.divide(Ga, ans, out=np.zeros((n, len(r))), where=ans > 0)
                cost = cost.copy()
                cost[:, hit] *= 1.0 - np.where(t.resp[rc][r] > 0, owed, 0.0)
            cost = self._war_waiver(rows, cols, cost)
            U[:, cols] -= (col(er) if np.ndim(er) else er) * cost
        return U

    def _war_waiver(self, rows: Any, cols: np.ndarray, cost: np.ndarray) -> np.ndarray:
        """The reluctance of a strike on a front at war, lowered by the front's recent strikes.

        Why: the ladder's cost is the cost of crossing into direct attack; once a front is at war the
        line has been crossed and a further strike is the war's routine, whose cost is the war's burden
        (interests), not the ladder's. Each recent strike on the strike's front (strikes_recent) waives
        ``war_waiver`` of the reluctance, all of it at 1 / war_waiver strikes; 0 switches it off (the rule
        before 2026-12-02).
        """
        wv = take_rows(self.m.tables.params.world("war_waiver"), rows)
        if np.ndim(wv) == 0 and float(wv) == 0.0:
            return cost
        fr = self.t.front[cols]
        on = fr >= 0
        if not on.any():
            return cost
        recent = np.stack([self.m.x[rows, f.recent] for f in self.m.fronts], axis=1)  # (n, fronts)
        share = np.minimum(recent * (col(wv) if np.ndim(wv) else wv), 1.0)
        cost = np.array(cost, dtype=float, copy=True)
        cost[:, on] *= 1.0 - share[:, fr[on]]
        return cost

    def calm_correction(self, rows: Any, x: np.ndarray) -> np.ndarray | None:
        """(n, C) what each calming option really does to the escalation index, less what the tables assumed.

        Why: the dynamics take a calming action's share of the tension (its points at the index level
        calm_reference, proportionally fewer below it: ``x (1 - exp(-points / calm_reference))``), but the
        compiled tables predict its declared points whatever the level. Without this an actor weighed
        urging restraint or mediating the same in a quiet week as after a strike on the nuclear sites
        (Riyadh's diplomacy matched the paired baseline in 99.9% of runs after one), and overvalued it
        in quiet weeks (at an index of 4, 2.5 times what it does). Columns: ``calming_cols()``; None when
        no option calms.
        """
        t = self.t
        cc, _pos = self.calming_cols()
        if t.esc_var < 0 or not len(cc):
            return None
        w = self.m.tables.params.world
        g = col(take_rows(w("deescalation_gain"), rows))
        ref = col(take_rows(w("calm_reference"), rows))
        pts = g * t.calm[cc][None, :]
        return pts + x[:, t.esc_var : t.esc_var + 1] * np.expm1(-pts / ref)

    def calming_cols(self) -> tuple[np.ndarray, np.ndarray]:
        """The options that calm (deescalatory points > 0), and each option's position among them (-1)."""
        if self._calming is None:
            cc = np.flatnonzero(self.t.calm > 0)
            self._calming = (cc, _positions(cc, self.t.N))
        return self._calming

    def _calm_delta(self, fix: np.ndarray, cols: Any) -> np.ndarray:
        """(n, K) the correction on a unit's columns (zero on the options that do not calm)."""
        pos = self.calming_cols()[1][cols]
        out = np.zeros((fix.shape[0], len(pos)))
        has = pos >= 0
        out[:, has] = fix[:, pos[has]]
        return out

    def attack_answers(self) -> np.ndarray:
        """Positions among the answering options (``resp_cols``) of states' attacks (those that carry the reluctance).

        Why states only: as with the reluctance, an armed group's raids are its routine means, and the strikes
        it answers (on proxies, rung 8) sit below the line of attack between states.
        """
        if self._attack_answers is None:
            self._attack_answers = np.flatnonzero(self.state_rungs()[self.t.resp_cols] > 0)
        return self._attack_answers

    def reluctance_cols(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The options that carry the reluctance, their rung/9, and their position among the answering options (-1)."""
        if self._reluctance is None:
            sr = self.state_rungs()
            cols = np.flatnonzero(sr)
            pos = np.full(self.t.N, -1, dtype=np.int64)
            pos[self.t.resp_cols] = np.arange(len(self.t.resp_cols))
            self._reluctance = (cols, sr[cols], pos[cols])
        return self._reluctance

    def state_rungs(self) -> np.ndarray:
        """(N,) each option's Kahn rung / 9 when a state takes it at or above ``reluctance_rung``, else 0.

        Why: the ladder describes what a government risks by crossing into direct attack (below that
        line sanctions, deployments and seizures are the routine tools of the record); for a militia raids are the
        routine means of its existence (the record: Iraqi militias, Hezbollah and the Houthis fired for
        months at a time), so only states carry the reluctance.
        """
        if self._state_rungs is None:
            actors = self.m.config.spec["actors"]
            is_state = np.array([bool(actors[a].get("state", True)) for a in self.m.tables.actors])
            line = float(self.m.tables.params.world("reluctance_rung"))
            self._state_rungs = np.where(self.t.rung >= line, self.t.rung / 9.0, 0.0) * is_state[self.t.actor_of]
        return self._state_rungs

    # ------------------------------------------------------------------ constraints
    def constraint_state(self, rows: Any, n: int) -> list[tuple[GConstraint, np.ndarray]]:
        """Each active constraint's state in the replicates ``rows``: blocked (n,) bool or penalty (n,)."""
        m = self.m
        look = m.row_lookup(rows)
        out = []
        for ct in self.t.constraints:
            active = np.broadcast_to(np.logical_not(take_rows(ct.lifted, rows)), (n,))
            if not active.any():
                continue
            pv = RowView(ct.params, rows)
            if ct.kind in ("forbid", "cap"):
                vec = active
            elif ct.kind == "gate":
                ok = np.broadcast_to(expr.truth(expr.evaluate(ct.condition, look, pv)), (n,))
                vec = active & ~ok
            else:
                pen = np.maximum(np.asarray(expr.evaluate(ct.penalty, look, pv), float), 0.0)
                pen = np.broadcast_to(pen, (n,))
                if ct.condition is not None:
                    cond = np.broadcast_to(expr.truth(expr.evaluate(ct.condition, look, pv)), (n,))
                    pen = np.where(cond, pen, 0.0)
                vec = np.where(active, pen, 0.0)
            out.append((ct, vec))
        return out

    # ------------------------------------------------------------------ choice
    def decide(
        self,
        rows: Any,
        n: int,
        due: np.ndarray,
        forced: np.ndarray,
        day: float,
        policy: str,
        detail: bool = False,
    ) -> Choice:
        """Choose every due unit's option in the replicates ``rows``.

        Args:
            rows: replicate indices (or ``slice(None)`` for all).
            n: number of those replicates.
            due: (n, U) units that decide (cycle point or an opening).
            forced: (n, U) the local option an event asks for, or -1.
            day: the moment (keys the random draws).
            policy: "model", "inert", "hawk" or "random" (every feasible option equally likely).
            detail: keep utilities, feasibility and constraint hits (explain).
        """
        m, t = self.m, self.t
        U = t.U
        if policy == "inert":
            due = np.zeros_like(due)
        keys = m.keys[rows]
        dkey = int(round(day * 1024.0)) % (1 << 62)
        Uf, noise, inv_t = self._policy_scores(rows, n, policy, keys, dkey)
        free_s = Uf * inv_t + noise
        free_s[:, t.unchoosable] = NEG
        infeasible, charges, hits = self._constrain(rows, n)
        scores = free_s.copy()
        cc = self.charged_cols()
        if policy not in ("hawk", "random") and len(cc):  # elsewhere the charge is 0: the same floats
            scores[:, cc] -= charges[:, cc] * inv_t
        np.copyto(scores, NEG, where=infeasible)
        free = self._argmax(free_s, n)
        choice = self._argmax(scores, n)
        hold_local = np.zeros((n, U), dtype=np.int64)
        idle = ~due
        free = np.where(idle, hold_local, free)
        choice = np.where(idle, hold_local, choice)
        # trembles: a miscalculation within the repertoire (C59), never above tremble_max_rung
        trembled = np.zeros((n, U), dtype=bool)
        if policy == "model":
            trembled = self._tremble(rows, keys, dkey, due, infeasible, choice)
        # events: the forced option if it is feasible (an event may take an event-only action)
        has_ev = forced >= 0
        fidx = np.where(has_ev, forced, 0)
        fg = t.offset[None, :] + fidx
        ok_ev = has_ev & ~np.take_along_axis(infeasible, fg, axis=1)
        choice = np.where(ok_ev, fidx, choice)
        blocked = has_ev & ~ok_ev
        g = t.offset[None, :] + choice
        fg_free = t.offset[None, :] + free
        differs = (free != choice) & ~trembled & ~ok_ev
        bound = self._bindings(hits, n, fg_free, fidx, differs, blocked)
        info = None
        if detail:
            info = {
                # event-only actions are no alternative of the actor's own choice
                "utility": np.where(infeasible | t.unchoosable, NEG, Uf - charges),
                "utility_free": np.where(t.unchoosable, NEG, Uf),
                "feasible": ~infeasible & ~t.unchoosable,
                "free": free,
                "hits": {ct.index: h for ct, h in hits},
                "cols": {ct.index: ct.cols for ct, _ in hits},
                "temperature": 1.0 / inv_t if np.ndim(inv_t) == 0 else (1.0 / inv_t)[:, 0],
            }
        return Choice(
            rows=np.arange(m.R)[rows],
            g=g,
            local=choice,
            bound=bound,
            forced=ok_ev,
            blocked=blocked,
            trembled=trembled,
            due=due | has_ev,
            detail=info,
        )

    def _policy_scores(self, rows: Any, n: int, policy: str, keys: np.ndarray, dkey: int) -> tuple[Any, Any, Any]:
        """Utilities, choice noise and inverse temperature under a policy (the controls have no utilities)."""
        m, t = self.m, self.t
        if policy == "hawk":
            return np.broadcast_to(t.rung * 1.0 - t.local_rank * 1e-6, (n, t.N)).copy(), 0.0, 1.0
        noise = rng.gumbel_ids(keys, dkey, "choice", t.ids)
        if policy == "random":  # what the scenario allows at all: every feasible option equally likely
            return np.zeros((n, t.N)), noise, 1.0
        Uf = self.utilities(rows, n) + self.taste(rows)
        temp = col(take_rows(m.tables.params.world("temperature"), rows))
        dil = take_rows(m.tables.params.world("option_dilution"), rows)
        if np.ndim(dil) or float(dil) != 0.0:
            Uf = Uf - (col(dil) if np.ndim(dil) else dil) * temp * self.log_options()
        return Uf, noise, 1.0 / temp

    def _constrain(self, rows: Any, n: int) -> tuple[np.ndarray, np.ndarray, list[tuple[GConstraint, np.ndarray]]]:
        """What the constraints forbid, what they charge, and where each one is active."""
        m, t = self.m, self.t
        cons = self.constraint_state(rows, n)
        infeasible = np.zeros((n, t.N), dtype=bool)
        charges = np.zeros((n, t.N))
        hits: list[tuple[GConstraint, np.ndarray]] = []
        x = m.x[rows] if any(ct.kind == "cap" for ct, _ in cons) else None
        for ct, vec in cons:
            if ct.kind == "cost":
                h = vec[:, None] * ct.factor[None, :]
                charges[:, ct.cols] += h
                hits.append((ct, h > 0))
            else:
                h = np.broadcast_to(vec[:, None], (n, len(ct.cols)))
                if ct.kind == "cap":
                    h = h & (x[:, ct.stock][:, None] < ct.cost[None, :] - 1e-12)
                infeasible[:, ct.cols] |= h
                hits.append((ct, h))
        infeasible |= t.unavailable
        return infeasible, charges, hits

    def _tremble(
        self, rows: Any, keys: np.ndarray, dkey: int, due: np.ndarray, infeasible: np.ndarray, choice: np.ndarray
    ) -> np.ndarray:
        """Trembles: a miscalculation within the repertoire (C59), never above tremble_max_rung.

        Writes the trembled units' picks into ``choice`` and returns which units trembled.
        """
        m, t = self.m, self.t
        tu = rng.uniforms_ids(keys, dkey, "tremble", t.unit_ids)
        trembled = (tu < col(take_rows(m.tables.params.world("tremble"), rows))) & due
        if not trembled.any():
            return trembled
        pick = rng.uniforms_ids(keys, dkey, "tremble_pick", t.unit_ids)
        cap = take_rows(m.tables.params.world("tremble_max_rung"), rows)
        ok = ~infeasible & ~t.unchoosable
        for u in np.flatnonzero(trembled.any(axis=0)):
            r = np.flatnonzero(trembled[:, u])
            cs = t.unit_cols(u)
            capr = cap[r][:, None] if np.ndim(cap) else cap
            feas = ok[r, cs] & (t.rung[cs][None, :] <= capr)
            feas[:, 0] |= ~feas.any(axis=1)
            order = np.argsort(t.local_rank[cs])  # options in label order, not listing order
            fo = feas[:, order]
            nf = fo.sum(axis=1)
            nth = np.minimum((pick[r, u] * nf).astype(np.int64), nf - 1)
            choice[r, u] = order[np.argmax(np.cumsum(fo, axis=1) > nth[:, None], axis=1)]
        return trembled

    def _bindings(
        self,
        hits: list[tuple[GConstraint, np.ndarray]],
        n: int,
        fg_free: np.ndarray,
        fidx: np.ndarray,
        differs: np.ndarray,
        blocked: np.ndarray,
    ) -> np.ndarray:
        """Bit masks of the constraints that bound each unit: its free choice differed, or an event was blocked."""
        t = self.t
        bound = np.zeros((n, t.U), dtype=np.int64)
        colpos = np.full(t.N, -1, dtype=np.int64)
        # only a unit whose free choice was overturned, or whose event was blocked, can have been bound
        cand = {
            u: np.flatnonzero(differs[:, u] | blocked[:, u]) for u in np.flatnonzero((differs | blocked).any(axis=0))
        }
        for ct, h in hits:
            colpos[:] = -1
            colpos[ct.cols] = np.arange(len(ct.cols))
            for u in np.unique(t.unit_of[ct.cols]):
                r = cand.get(int(u))
                if r is None:
                    continue
                pf = colpos[fg_free[r, u]]
                pe = colpos[t.offset[u] + fidx[r, u]]
                sel = (pf >= 0) & differs[r, u]
                on = np.zeros(len(r), dtype=bool)
                on[sel] = h[r[sel], pf[sel]]
                selb = (pe >= 0) & blocked[r, u]
                on[selb] |= h[r[selb], pe[selb]]
                bound[r, u] |= on.astype(np.int64) << ct.index
        return bound

    def _argmax(self, scores: np.ndarray, n: int) -> np.ndarray:
        """The best option of each unit's block, (n, U) local indices (hold wins ties and all -inf)."""
        t = self.t
        out = np.empty((n, t.U), dtype=np.int64)
        for us, cols, k in t.blocks:
            out[:, us] = np.argmax(scores[:, cols].reshape(n, len(us), k), axis=2)
        return out
