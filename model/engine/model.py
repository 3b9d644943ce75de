"""The Mesa model: the world, its calendar of moments and its generic mechanisms, vectorised over replicates.

A step covers the days ((s-1)·dt, s·dt] (model/engine/calendar.py). Inside it the model runs through
its **moments** in calendar order, integrating the world's own dynamics from one moment to the next:

* the decision clock's cycle points (every unit decides on a regular cycle common to all actors);
* dated events and dated changes, on their own dates;
* decisions that a strike **opened**: a strike on an actor (or on a close friend of it) gives the
  actors it concerns a decision ``reaction_days`` later, so an answer can come within days;
* deliveries that arrive (an order placed earlier, after its lead time);
* thresholds on ``day`` in the conditions of pending events (``when: "day >= 152"`` fires on day 152).

At a moment: dated changes apply, deliveries land, the derived variables are brought up to date,
events and due units are resolved in one decision pass (model/engine/core.py), the chosen options'
effects land (sums over units, so the order of units cannot matter), the fronts count their strikes,
and openings and orders are scheduled. Everything happens at the same calendar time whatever the step
length; the step only sets how often the state is recorded (tests/test_steplength.py).

Nothing here names an actor, interest, issue or action: those arrive as roles, fronts and tables from
the catalog (model/catalog/world.yaml).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import mesa
import numpy as np

from model import expr
from model.catalog import plain_copy
from model.engine import core, rng
from model.engine.calendar import EPS, Calendar, cycle_of, cycle_points
from model.engine.config import Config
from model.engine.tables import Params, UnitTable, compile_tables

LN2 = float(np.log(2.0))


def _decay(half_life_days: Any, dt: float) -> Any:
    return np.exp(-LN2 * dt / np.asarray(half_life_days, dtype=float))


def _per_rep(v: Any) -> Any:
    """A scalar, or a per-replicate (R,) factor shaped to scale (R, A, A) or (R, A, S) arrays."""
    return v[:, None, None] if np.ndim(v) == 1 else v


@dataclass
class Front:
    """A front: two sides whose strikes on each other it counts, with its war state variables."""

    name: str
    sides: tuple[set[int], set[int]]
    state: int
    recent: int
    now: int
    since: int
    agreed: int
    heat: int = -1
    sustained: int = -1  # counts the times the front entered a sustained war (a monotone record of it)


class ActorAgent(mesa.Agent):
    """A decision unit (an actor on one track) as a Mesa agent: a view on the batch's state.

    Decisions are taken for every due unit at once, on the global option table (core.Decider), so
    no agent acts before another; ``decision`` holds the unit's latest decision for inspection.
    """

    def __init__(self, model: EntenteModel, table: UnitTable) -> None:
        super().__init__(model)
        self.name = table.name
        self.table = table
        self.decision: core.Decision | None = None
        i = table.index
        self.stance = model.stance[:, i, :]
        self.grievance = model.griev[:, :, i]
        self.relations = model.rel[:, i, :]


def _scatter_add(dense: np.ndarray, bins: np.ndarray, weights: np.ndarray) -> None:
    """Add a few weights into a large flat array, in place: ``dense += np.bincount(bins, weights, len(dense))``.

    Why: a dense bincount allocates and adds the whole (replicates, actors, actors) block for a few
    hundred bins (host blame: 12% of a run). Each bin's weights are summed in order from zero, as
    bincount sums them, and then added once, so the floats are the same. (The one exception, a -0.0
    already in ``dense`` that the dense form would turn into +0.0, cannot arise: the arrays it adds into
    are bincount sums or zeros.)
    """
    if len(bins):
        keys = _distinct(bins)
        dense[keys] += np.bincount(np.searchsorted(keys, bins), weights=weights, minlength=len(keys))


def _distinct(keys: np.ndarray) -> np.ndarray:
    """The sorted distinct values of an integer array (``np.unique``, whose hashing in numpy 2.3+ is ten times slower)."""
    s = np.sort(keys)
    return s[np.r_[True, s[1:] != s[:-1]]] if len(s) else s


@dataclass
class _Pairs:
    """The (replicate, unit) pairs that acted at one moment, sorted by replicate then by unit label."""

    rows: np.ndarray  # the decided replicates' rows in the batch
    n: int  # how many
    ri: np.ndarray  # each pair's replicate (position in rows)
    o: np.ndarray  # its global option
    a: np.ndarray  # its taker
    tt: np.ndarray  # its target (0 when none)
    ht: np.ndarray  # whether it has a target
    starts: np.ndarray  # first pair of each replicate that acted
    who: np.ndarray  # those replicates
    base: np.ndarray  # flat bin of (replicate, taker, .) in an (n, actors, actors) block

    def seg_sum(self, values: np.ndarray) -> np.ndarray:
        """Per-replicate sums in the pairs' order (zeros where a replicate did not act)."""
        out = np.zeros((self.n, *values.shape[1:]))
        out[self.who] = np.add.reduceat(values, self.starts, axis=0)
        return out

    def seg_max(self, values: np.ndarray, empty: float) -> np.ndarray:
        """Per-replicate maxima (``empty`` where a replicate did not act)."""
        out = np.full(self.n, empty)
        out[self.who] = np.maximum.reduceat(values, self.starts)
        return out


class EntenteModel(mesa.Model):
    """A batch of replicates of one configuration; a single replicate is a batch of one.

    Args:
        config: the resolved configuration (catalog after overrides, events, uncertainties).
        replicates: replicate indices to simulate, or a count (indices 0..n-1).
        detail: keep full decision records (utilities, feasibility, constraint hits) per moment;
            meant for a few replicates (explain), not for ensembles.
        order: the order in which the decision units are registered with Mesa (a permutation of
            their indices). Decisions are one simultaneous pass and effects are sums in catalog
            order, so results do not depend on it (a test checks that).
    """

    def __init__(
        self,
        config: Config,
        replicates: Sequence[int] | np.ndarray | int = 1,
        *,
        detail: bool = False,
        order: Sequence[int] | None = None,
        extremes: str = "all",
    ) -> None:
        super().__init__(rng=int(config.seed) % 2**32)
        if config.policy not in ("model", "inert", "hawk", "random"):
            raise ValueError(f"policy must be 'model', 'inert', 'hawk' or 'random', not {config.policy!r}")
        self.config = config
        self._spec_owned = False  # True once a dated change has given this model its own copy of the spec
        reps = np.arange(replicates) if isinstance(replicates, int) else np.asarray(replicates, dtype=np.int64)
        self.replicates = reps
        self.keys = rng.replicate_keys(config.seed, reps)
        self.tables = compile_tables(config, self.keys, reps)
        t = self.tables
        self.R, self.V, self.A, self.S = len(reps), len(t.variables), len(t.actors), len(t.issues)
        self.vi = t.var_index
        self.detail = detail
        p = t.params
        self.dt = float(p.world("step_days"))
        self.cal = Calendar(self.dt, int(config.steps), None)
        self.phase = float(np.asarray(p.world("decision_phase")).ravel()[0])
        self._check_step_length()
        lw = [t.actor_index[a] for a in t.roles.get("last_word", {}).get("actors", []) if a in t.actor_index]
        self._last_word = np.isin(np.arange(len(t.actors)), lw) if lw else None
        self.fronts = self._compile_fronts()
        self.opt = core.build(t, [f.sides for f in self.fronts])
        self.decider = core.Decider(self, self.opt)

        self._initial_state(config)
        R, U = self.R, self.opt.U
        self.open_day = np.full((R, U), np.inf)  # decisions opened by strikes
        self.skip_cycle = np.full((R, U), -(10**9), dtype=np.int64)  # cycle taken by an event
        self.arrive = np.full((R, len(self.opt.pipelines)), np.inf)  # pending deliveries
        self.offer_day = np.full((R, len(self.fronts), 2), -np.inf)  # ceasefire offers per front and side
        self.retry = np.full((R, len(config.events)), np.inf)  # next retry of a scheduled event not yet applied
        self.counts = np.zeros((R, self.opt.N), dtype=np.int32)
        self.day = 0.0

        self._build_agents(order)
        self._events = self._compile_events(config)
        self._changes = sorted(config.changes, key=lambda c: getattr(c, "day", None) or c.step * self.dt)
        self._count_cols = self._count_columns()
        self._recording_arrays(config, extremes)
        self.records: list[dict[str, Any]] = []
        self._reset_reporting()
        self._started = False
        self._quiet = False  # the warm-up draws no noise: the record sets the state, not chance

    # ------------------------------------------------------------------ set-up
    def _check_step_length(self) -> None:
        """Refuse a step longer than a unit's decision cycle (a decision would be skipped) or a sampled rate."""
        for tab in self.tables.actor_tables:
            rate = np.asarray(tab.rate, dtype=float)
            if rate.ndim:
                raise ValueError(f"the decision rate of {tab.label} is one value per batch (it sets the calendar)")
            if rate * self.dt > 1.0 + 1e-9:
                raise ValueError(
                    f"step_days {self.dt:g} is longer than the mean interval between {tab.label} decisions "
                    f"(1 / rate = {1.0 / float(rate):.3g} days); use a shorter step"
                )

    def _initial_state(self, config: Config) -> None:
        """World variables, relations, stances, grievances and support tiers at the start (day 0)."""
        t, p = self.tables, self.tables.params
        R, A, S = self.R, self.A, self.S
        self.x = np.zeros((R, self.V))
        for v, i in self.vi.items():
            self.x[:, i] = p.get(f"initial.{v}")
        self.rel = np.zeros((R, A, A))
        ai = t.actor_index
        for pair in config.spec["relations"]:
            a, b = pair.split("-")
            val = p.get(f"relations.{pair}")
            self.rel[:, ai[a], ai[b]] = val
            self.rel[:, ai[b], ai[a]] = val
        for i, a, b in t.dynamics.relation:
            self.rel[:, a, b] = self.rel[:, b, a] = self.x[:, i]
        self.rel0 = self.rel.copy()
        self.stance = np.zeros((R, A, S))
        for a in config.spec["actors"]:
            for s, issue in enumerate(t.issues):
                self.stance[:, ai[a], s] = p.get(f"actors.{a}.stances.{issue}")
        self.stance0 = self.stance.copy()
        # griev[r, target, holder]: the grievance `holder` bears against `target`
        self.griev = np.zeros((R, A, A))
        for a, actor in config.spec["actors"].items():
            for b in actor.get("initial_grievance", {}):
                self.griev[:, ai[b], ai[a]] = p.get(f"actors.{a}.initial_grievance.{b}")
        # the part of each grievance left by direct attacks (acts at or above waiver_rung): only this
        # waives the reluctance to strike, so a pile of small slights never licenses a strike (Kahn's ladder)
        # (initial grievances stand for earlier blows: they count as both)
        self.griev_attack = self.griev.copy()
        self.tier_day = np.full((R, t.n_tiers), -np.inf)
        for i, _ in t.dynamics.tier:
            k0 = self.x[:, i].astype(np.int64)
            self.tier_day[np.arange(R), np.clip(k0, 0, t.n_tiers - 1)] = 0.0

    def _recording_arrays(self, config: Config, extremes: str) -> None:
        """What each step records: the state, its within-step extremes and averages, choices and events."""
        t, R, U = self.tables, self.R, self.opt.U
        T = config.steps
        defs = list(config.spec.get("outcomes", {}).values()) + list(config.outcome_defs.values())
        self.extra_names = sorted({n for d in defs for n in expr.parse(str(d["expr"]), t.names).names()} - set(self.vi))
        self.series = np.zeros((T + 1, R, self.V))
        # the highest and lowest value of every variable within each step (over its moments and its end):
        # peaks and thresholds are then read exactly at any step length, not only at the step ends
        # the variables whose within-step extremes and averages are kept: all of them, or (a run streamed to
        # disk) those the outcomes read, which makes the three arrays a fraction of the series' size
        self.extreme_names = self._extreme_variables(extremes, defs)
        self._xcols = None if len(self.extreme_names) == self.V else np.array([self.vi[v] for v in self.extreme_names])
        Vx = len(self.extreme_names)
        self.series_hi = np.zeros((T + 1, R, Vx))
        self.series_lo = np.zeros((T + 1, R, Vx))
        self.series_mean = np.zeros((T + 1, R, Vx))  # each step's time average (row 0: the start)
        self.extra = np.zeros((T + 1, R, len(self.extra_names)))
        self.mark_days = np.asarray(sorted(float(m) for m in config.marks), dtype=float)
        self.mark_series = np.zeros((len(self.mark_days), R, self.V))
        self.mark_extra = np.zeros((len(self.mark_days), R, len(self.extra_names)))
        self._next_mark = 0
        self.choices = np.zeros((T, R, U), dtype=np.int16)
        self.bound = np.zeros((T, R, U), dtype=np.int64)
        self.forced = np.zeros((T, R, U), dtype=bool)
        self._rung_rec = np.full((R, U), -1, dtype=np.int64)
        self.event_step = np.zeros((len(self._events), R), dtype=np.int32)  # step applied, 0 = never
        self.event_day = np.full((len(self._events), R), np.nan)  # day applied
        self.event_deferred = np.zeros((len(self._events), R), dtype=np.int32)  # moments lost to another event
        self.event_blocked = np.zeros((len(self._events), R), dtype=np.int32)  # moments a constraint blocked it

    def _extreme_variables(self, extremes: str, defs: list[dict[str, Any]]) -> list[str]:
        """Variables whose within-step highs, lows and averages are recorded.

        "all", or "outcomes": those the catalog's and the scenario's outcome expressions name, which is
        all that outcomes.compute reads.
        """
        variables = list(self.tables.variables)
        if extremes == "all":
            return variables
        if extremes != "outcomes":
            raise ValueError(f"extremes must be 'all' or 'outcomes', not {extremes!r}")
        from model.engine.outcomes import outcome_table

        table = [*outcome_table(self.config.spec).values(), *defs]
        used = {n for d in table for n in expr.parse(str(d["expr"]), self.tables.names).names()}
        return [v for v in variables if v in used]

    def _compile_fronts(self) -> list[Front]:
        t, spec = self.tables, self.config.spec
        out = []
        for name, f in spec["world"].get("fronts", {}).items():
            v = f["vars"]
            out.append(
                Front(
                    name,
                    ({t.actor_index[a] for a in f["sides"][0]}, {t.actor_index[a] for a in f["sides"][1]}),
                    self.vi[v["state"]],
                    self.vi[v["recent"]],
                    self.vi[v["now"]],
                    self.vi[v["since"]],
                    self.vi[v["agreed"]],
                    self.vi[v["heat"]] if v.get("heat") else -1,
                    self.vi[v["sustained"]] if v.get("sustained") else -1,
                )
            )
        return out

    def _reset_reporting(self) -> None:
        rep = self.tables.roles["reporting"]
        for key in ("max_rung", "goldstein"):
            self.x[:, self.vi[rep[key]]] = 0.0
        for f in self.fronts:
            self.x[:, f.now] = 0.0

    def _build_agents(self, order: Sequence[int] | None) -> None:
        tabs = self.tables.actor_tables
        idx = list(order) if order is not None else list(range(len(tabs)))
        if sorted(idx) != list(range(len(tabs))):
            raise ValueError("order must be a permutation of the decision units")
        made = {i: ActorAgent(self, tabs[i]) for i in idx}
        self.units: list[ActorAgent] = [made[i] for i in range(len(tabs))]
        self.n_options = self.opt.N

    def _count_columns(self) -> dict[str, np.ndarray]:
        """Global option columns behind each choice counter name (count.<actor>.<action>[.<target>])."""
        cols: dict[str, list[int]] = {}
        hold = self.tables.roles["hold"]["action"]
        for g, (unit, act, tgt) in enumerate(self.tables.option_labels):
            if act == hold:
                continue
            actor = unit.split(":")[0]
            cols.setdefault(f"count.{actor}.{act}", []).append(g)
            if tgt != "none":
                cols.setdefault(f"count.{actor}.{act}.{tgt}", []).append(g)
        return {k: np.asarray(v, dtype=np.int64) for k, v in cols.items()}

    def lookup(self, name: str) -> Any:
        """Value of a name used in expressions, per replicate (the current state)."""
        if name in self.vi:
            return self.x[:, self.vi[name]]
        if name == "day":
            return float(self.day)
        if name == "week":
            return float(self.day / 7.0)
        if name == "step":
            return float(self.day / self.dt)
        if name.startswith("count."):
            cols = self._count_cols.get(name)
            return self.counts[:, cols].sum(axis=1).astype(float) if cols is not None else np.zeros(self.R)
        kind, a, b = name.split(".")
        ai = self.tables.actor_index
        if kind == "relation":
            return self.rel[:, ai[a], ai[b]]
        return self.stance[:, ai[a], self.tables.issues.index(b)]

    def row_lookup(self, rows: Any) -> Any:
        """A lookup restricted to some replicates."""
        if isinstance(rows, slice):
            return self.lookup

        def look(name: str) -> Any:
            return core.take_rows(self.lookup(name), rows)

        return look

    def _compile_events(self, config: Config) -> list[dict[str, Any]]:
        return self._compile_events_list(config.events)

    def _compile_events_list(self, events: list[Any]) -> list[dict[str, Any]]:
        out = []
        for ev in events:
            unit = None
            for tab in self.tables.actor_tables:
                if tab.name == ev.actor and (ev.action, ev.target) in tab.options:
                    unit = tab
            if unit is None:
                raise ValueError(f"event: {ev.actor} cannot take {ev.action} against {ev.target}")
            cond = expr.parse(ev.when, self.tables.names) if ev.when else None
            day = ev.day
            if day is None and ev.step is not None:
                # an event at a step acts at its unit's first cycle point in that step (the step's midpoint if none)
                d0, d1 = self.cal.bounds(int(ev.step))
                pts = cycle_points(d0, d1, float(unit.rate), self.phase)
                day = pts[0] if pts else d0 + 0.5 * self.dt
            out.append(
                {
                    "event": ev,
                    "unit": unit.unit,
                    "option": unit.options.index((ev.action, ev.target)),
                    "cond": cond,
                    "day": day,
                    "thresholds": _day_thresholds(cond) if cond is not None else [],
                    "fired": np.zeros(self.R, dtype=bool),
                }
            )
        return out

    # ------------------------------------------------------------------ dated changes
    def _apply_change(self, ch: Any) -> None:
        """A dated change of the world: parameters (set, or shift/scale a sampled value), variables, relations, actors."""
        t = self.tables
        params: Params = t.params
        structural = False
        for path, value in ch.values.items():
            op = "set"
            if isinstance(value, dict):  # {shift: d} or {scale: f}: move a (possibly sampled) value, keep its spread
                op, value = next(iter(value.items()))
            head = path.split(".")[0]
            if head == "variables":
                i = self.vi[path.split(".", 1)[1]]
                self.x[:, i] = _combine(op, self.x[:, i], value)
            elif head == "relations":
                a, b = path.split(".", 1)[1].split("-")
                i, j = t.actor_index[a], t.actor_index[b]
                new = _combine(op, self.rel[:, i, j], value)
                self.rel[:, i, j] = self.rel[:, j, i] = new
                self.rel0[:, i, j] = self.rel0[:, j, i] = new
            elif head == "actors" and ".stances." in path:  # a position taken: the stance and what it reverts to
                _, actor, _, issue = path.split(".")
                a, si = t.actor_index[actor], t.issues.index(issue)
                self.stance[:, a, si] = self.stance0[:, a, si] = _combine(op, self.stance0[:, a, si], value)
            elif head == "actors" and path.endswith(".active"):  # who is in the game: availability, no rebuild
                self.tables.active = self.tables.active.copy()  # the compiled tables may be shared
                self.tables.active[t.actor_index[path.split(".")[1]]] = bool(value)
                self.decider.set_active(self.tables.active)
            elif head == "axis":
                self._own_spec()
                self.config.spec["axis"]["sides"][path.split(".")[1]] = value
                structural = True
            else:
                params.values[path] = _combine(op, params.get(path), value)
                # most parameters are read when used (world dynamics, constraint conditions and costs): only
                # those compiled into the option tables (interests, responses, ladder impulses, lifts) rebuild them
                structural |= _compiled_in(path, t)
        if structural:
            self._recompile()

    def _own_spec(self) -> None:
        """Give this model its own copy of the configuration's spec before a dated change edits it.

        Why: the Config is the caller's; editing its spec in place (an actor leaving, a side changing)
        would carry one run's dated changes into the next run of the same Config.
        """
        if not self._spec_owned:
            self.config = copy.copy(self.config)
            self.config.spec = plain_copy(self.config.spec)
            self._spec_owned = True

    def _recompile(self) -> None:
        """Rebuild the option tables after a structural change; sampled values and the state carry over."""
        self._own_spec()
        active = self.tables.active  # who left the game is state, kept apart from the spec (_apply_change)
        self.tables = compile_tables(self.config, self.keys, self.replicates, params=self.tables.params)
        self.tables.active = active
        self.opt = core.build(self.tables, [f.sides for f in self.fronts])
        core.set_active(self.opt, active)
        self.decider = core.Decider(self, self.opt)
        for e in self._events:  # option indices are unchanged: tables keep their option lists
            e["cond"] = expr.parse(e["event"].when, self.tables.names) if e["event"].when else None

    # ------------------------------------------------------------------ the step
    def step(self) -> None:
        """Advance every replicate by one step: its moments in calendar order (module docstring).

        A replicate is integrated only at its own moments (the common ones: cycle points, dated
        events, changes and marks; and its own: decisions its strikes opened, deliveries it ordered),
        so its trajectory never depends on what the other replicates of the batch did.
        """
        if not self._started:
            self._start()
        s = self.steps  # Mesa increments it before calling step()
        d0, d1 = self.cal.bounds(s)
        self._reset_reporting()
        self._rung_rec[:] = -1
        # extremes over the step's moments and its end (not its start: the previous step's end)
        self._hi = np.full_like(self.x, -np.inf)
        self._lo = np.full_like(self.x, np.inf)
        self._area = np.zeros_like(
            self.x
        )  # the step's integral of every variable over time (trapezoid between moments)
        tau = d0
        cycles = self._cycles(d0, d1)
        while True:
            nxt = self._next_moment(tau, d1, cycles)
            if nxt is None:
                break
            day, common = nxt
            if common:
                rows: Any = slice(None)
            else:
                own = (
                    (np.abs(self.open_day - day) < EPS).any(axis=1)
                    | (np.abs(self.arrive - day) < EPS).any(axis=1)
                    | (np.abs(self.retry - day) < EPS).any(axis=1)
                )
                rows = np.flatnonzero(own)
            self._advance(rows, day)
            self._moment(s, day, cycles.get(day, []) if common else [], rows)
            tau = day
        self._advance(slice(None), d1)
        self.day = d1
        self._update_derived()
        self._record(s)

    def _change_day(self, ch: Any) -> float:
        """The day a change takes effect: its date, or the start of its step."""
        day = getattr(ch, "day", None)
        return float(day) if day is not None else (int(ch.step) - 1) * self.dt

    def _start(self) -> None:
        """The state at day 0: the timeline's changes and, over a warm-up, the record's events before the start."""
        self._started = True
        self.clock = np.zeros(self.R)
        L = float(self.config.warmup_days)
        pre = [c for c in self._changes if self._change_day(c) <= EPS]
        self._changes = [c for c in self._changes if self._change_day(c) > EPS]
        for ch in [c for c in pre if self._change_day(c) <= -L + EPS]:  # older facts: the state at the window's start
            self._apply_change(ch)
        window = [c for c in pre if self._change_day(c) > -L + EPS]
        if L > 0 and (window or self.config.warmup_events):
            self._warmup(-L, window)
        else:
            for ch in window:
                self._apply_change(ch)
        self.day = 0.0
        self.clock[:] = 0.0
        # the scenario's own starting values (initial:, or sampled initial.X) are the state on the start
        # date: the warm-up that rebuilt the rest of the world does not wear them down; and the records
        # of the run (since_start) count from the start, not what the warm-up replayed
        p = self.tables.params
        records = [v for v, d in self.config.spec["world"]["variables"].items() if d.get("since_start")]
        for v in [*self.config.spec.get("_pinned_initial", ()), *records]:
            if v in self.vi:
                self.x[:, self.vi[v]] = p.get(f"initial.{v}")
        self._update_derived()
        self._anchor()
        self._reset_reporting()
        self._record(0)

    def _anchor(self) -> None:
        """Set a derived variable to the value the record gives at the start, through its free part.

        The Brent close before the start date already prices the premia the warm-up rebuilt, so the
        fundamentals take the difference (and become the level they revert to): the price starts at
        the close, and only what happens after the start moves it.
        """
        roles = self.tables.roles.get("anchors", {})
        for var, value in self.config.anchors.items():
            role = roles.get(var)
            if role is None:
                continue
            free = self.vi[role["free"]]
            self.x[:, free] += float(value) - self.x[:, self.vi[var]]
            if role.get("level"):
                self.tables.params.values[f"world.{role['level']}"] = self.x[:, free].copy()
            self._update_derived()

    def _warmup(self, begin: float, changes: list[Any]) -> None:
        """Replay the weeks before the start: dated changes and the record's events, nobody deciding, no noise.

        Decisions are switched off (an event still takes effect: the record says it happened), the
        world's own dynamics run between the dated items in steps of at most a week, and what the
        warm-up counted (choices, events, reporting) is cleared before the run starts.
        """
        saved = (self._events, self.config.policy, self.detail, self.event_step, self.event_day)
        self.config = copy.copy(self.config)
        self.config.policy = "inert"
        self.detail = False
        self._events = self._compile_events_list(self.config.warmup_events)
        self.event_step = np.zeros((len(self._events), self.R), dtype=np.int32)
        self.event_day = np.full((len(self._events), self.R), np.nan)
        saved_counts = (self.event_deferred, self.event_blocked, self.retry)
        self.event_deferred = np.zeros((len(self._events), self.R), dtype=np.int32)
        self.event_blocked = np.zeros((len(self._events), self.R), dtype=np.int32)
        self.retry = np.full((self.R, len(self._events)), np.inf)
        self._quiet = True
        self.clock[:] = begin
        self.day = begin
        items = sorted(
            [(self._change_day(c), 0, c) for c in changes] + [(float(e["day"]), 1, e) for e in self._events],
            key=lambda z: (z[0], z[1]),
        )
        points = sorted({d for d, _, _ in items} | set(np.arange(begin, 0.0, 7.0).tolist()) | {0.0})
        for day in points:
            if day <= begin + EPS:
                day = begin
            self._advance(slice(None), day)
            for d, kind, c in items:
                if kind == 0 and abs(d - day) < EPS:
                    self._apply_change(c)
            if any(kind == 1 and abs(d - day) < EPS for d, kind, _ in items):
                self._moment(1, day, [], slice(None))
        self._advance(slice(None), 0.0)
        self._quiet = False
        self._events, policy, self.detail, self.event_step, self.event_day = saved
        self.event_deferred, self.event_blocked, self.retry = saved_counts
        self.config.policy = policy
        self.counts[:] = 0
        self.open_day[:] = np.inf
        self.skip_cycle[:] = -(10**9)
        self.choices[:] = 0
        self.bound[:] = 0
        self.forced[:] = False
        self.records = []

    def _cycles(self, d0: float, d1: float) -> dict[float, list[int]]:
        """The units whose cycle point falls at each day of (d0, d1]."""
        out: dict[float, list[int]] = {}
        for u, tab in enumerate(self.opt.units):
            for day in cycle_points(d0, d1, float(tab.rate), self.phase):
                key = min((k for k in out if abs(k - day) < EPS), default=day)
                out.setdefault(key, []).append(u)
        return out

    def _next_moment(self, tau: float, d1: float, cycles: dict[float, list[int]]) -> tuple[float, bool] | None:
        """The next moment after tau in the step, and whether it is common to every replicate."""
        common = [d for d in cycles]
        for e in self._events:
            if e["day"] is not None and not e["fired"].all():
                common.append(max(e["day"], 0.0))
            common += e["thresholds"]
        common += [self._change_day(c) for c in self._changes]
        if self._next_mark < len(self.mark_days):
            common.append(float(self.mark_days[self._next_mark]) + 1.0)
        common = [c for c in common if tau + EPS < c <= d1 + EPS]
        own = []
        for arr in (self.open_day, self.arrive, self.retry):
            if arr.size and np.isfinite(arr).any():
                later = arr[(arr > tau + EPS) & (arr <= d1 + EPS)]
                if later.size:
                    own.append(float(later.min()))
        if not common and not own:
            return None
        c = min(common) if common else np.inf
        o = min(own) if own else np.inf
        if c <= o + EPS:
            return c, True
        return o, False

    def _advance(self, rows: Any, t1: float) -> None:
        """Integrate the world's own dynamics of some replicates from their own clocks to day t1."""
        span = t1 - self.clock[rows]
        if np.all(span <= EPS):
            self.day = t1
            return
        span = np.maximum(span, 0.0)
        if isinstance(rows, slice) and np.ptp(span) < EPS:
            span = float(span[0])
        area = getattr(self, "_area", None)
        x0 = self.x[rows].copy() if area is not None else None
        self._dynamics(rows, t1, span)
        w = self.tables.params.world
        for f in self.fronts:
            since = self.x[rows, f.since] + span
            self.x[rows, f.since] = since
            ws = self.x[rows, f.state]
            fighting = (ws == 1) | (ws == 2)
            self.x[rows, f.state] = np.where(fighting & (since >= core.take_rows(w("ceasefire_days"), rows)), 3.0, ws)
        if area is not None:
            width = span if np.ndim(span) == 0 else np.asarray(span)[:, None]
            area[rows] += 0.5 * (x0 + self.x[rows]) * width
        self.clock[rows] = t1
        self.day = t1

    def _moment(self, s: int, day: float, cycle_units: list[int], rows: Any) -> None:
        """Everything that happens at one moment of step s, in the replicates ``rows`` (module docstring)."""
        self.day = day
        common = isinstance(rows, slice)
        if common:
            while self._next_mark < len(self.mark_days) and self.mark_days[self._next_mark] + 1.0 <= day + EPS:
                self._update_derived()
                self._snapshot_mark(self._next_mark)
                self._next_mark += 1
            for ch in [c for c in self._changes if abs(self._change_day(c) - day) < EPS]:
                self._apply_change(ch)
        self._deliveries(day)
        self._update_derived(rows)
        t, R, U = self.opt, self.R, self.opt.U
        active = np.zeros(R, dtype=bool)
        active[rows] = True
        due = np.zeros((R, U), dtype=bool)
        for u in cycle_units:
            n = cycle_of(day, float(t.units[u].rate), self.phase)
            due[:, u] = self.skip_cycle[:, u] != n
        opened = self.open_day <= day + EPS
        if opened.any():
            opened &= active[:, None]
            due |= opened
            self.open_day[opened] = np.inf
        forced, won = self._candidates(day, due, active)
        any_row = (due | (forced >= 0)).any(axis=1)
        if not any_row.any() and not (self.detail and common):
            return  # nobody decides (in detail, the common clock's moments are still recorded)
        sel: Any = slice(None) if any_row.all() or (self.detail and common) else np.flatnonzero(any_row)
        n = R if isinstance(sel, slice) else len(sel)
        c = self.decider.decide(sel, n, due[sel], forced[sel], day, self.config.policy, self.detail)
        self._event_bookkeeping(s, day, c, won, sel)
        self._apply(c, day)
        if not self._quiet:
            self._record_choices(s, c)
        if self.detail:
            self.records.append({"step": s, "day": day, "decisions": core.unit_decisions(self.opt, c)})
        self._update_derived(rows)
        self._extremes(rows)

    # ------------------------------------------------------------------ events
    def _candidates(self, day: float, due: np.ndarray, active: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """Which event each unit is asked to take at this moment; the first listed event wins a unit.

        Only replicates for which this is one of their own moments (``active``) are asked, so an
        event never fires at a moment another replicate of the batch brought.
        """
        forced = np.full((self.R, self.opt.U), -1, dtype=np.int64)
        won = []
        for k, e in enumerate(self._events):
            ev = e["event"]
            if e["day"] is not None and e["cond"] is None:
                cand = np.full(self.R, e["day"] <= day + EPS) & ~e["fired"] & active
                if (
                    e["day"] < day - EPS
                ):  # past its date: only at its retries (it waited for a constraint or another event)
                    cand &= np.abs(self.retry[:, k] - day) < EPS
            else:
                cand = np.broadcast_to(expr.truth(expr.evaluate(e["cond"], self.lookup)), (self.R,)).copy()
                if e["day"] is not None:
                    cand &= e["day"] <= day + EPS
                if ev.once:
                    cand &= ~e["fired"]
                else:  # a standing policy is carried out at the unit's own decision times
                    cand &= due[:, e["unit"]]
                cand &= active
            col = forced[:, e["unit"]]
            win = cand & (col < 0)
            self.event_deferred[k] += cand & ~win
            if ev.once:
                lost = cand & ~win
                self.retry[lost, k] = day + 1.0
            forced[:, e["unit"]] = np.where(win, e["option"], col)
            won.append(win)
        return forced, won

    def _event_bookkeeping(self, s: int, day: float, c: core.Choice, won: list[np.ndarray], rows: Any) -> None:
        for k, e in enumerate(self._events):
            u = e["unit"]
            w = won[k][rows]
            applied = w & c.forced[:, u]
            blocked = w & ~c.forced[:, u]
            r_app = c.rows[applied]
            e["fired"][r_app] = True
            self.event_step[k, r_app] = s
            self.event_day[k, r_app] = day
            self.event_blocked[k, c.rows[blocked]] += 1
            if e["event"].once:
                # an event that waited (blocked, or another event held its unit) is retried a day later
                waiting = w & ~c.forced[:, u]
                self.retry[c.rows[waiting], k] = day + 1.0
                self.retry[r_app, k] = np.inf
            # an event stands in for the unit's decision of the cycle it falls in
            n = cycle_of(day, float(self.opt.units[u].rate), self.phase)
            self.skip_cycle[r_app, u] = n

    # ------------------------------------------------------------------ effects
    def _apply(self, c: core.Choice, day: float) -> None:
        """Land the chosen options' effects in the replicates that decided.

        The chosen options are gathered as (replicate, unit) pairs, sorted by replicate and then by
        the units' canonical (label) order, and every effect is a segmented sum over those pairs
        (``reduceat``, ``bincount``): each replicate's sums run over its own units in one fixed order,
        so a replicate gets bit for bit the same floats alone as in a batch of any size, and listing
        the actors in another order changes nothing.
        """
        t, w = self.opt, self.tables.params.world
        rows, g = c.rows, c.g
        acted = g[:, t.canon] != t.hold[t.canon][None, :]
        if not acted.any():
            return
        ri, k = np.nonzero(acted)
        ui = t.canon[k]
        o = g[ri, ui]
        a = t.unit_actor[ui]
        self.counts[rows[ri], o] += 1  # one option per unit and replicate: no pair repeats
        starts = np.flatnonzero(np.r_[True, ri[1:] != ri[:-1]])
        P = _Pairs(
            rows=rows,
            n=len(rows),
            ri=ri,
            o=o,
            a=a,
            tt=t.tsafe[o],
            ht=t.has_t[o],
            starts=starts,
            who=ri[starts],
            base=(ri * self.A + a) * self.A,
        )
        x0 = self.x[rows]
        rel0 = self.rel[rows]
        # the grievance ledgers are read and written only where this moment's pairs touch them (flat
        # offsets), not copied as whole (replicates, actors, actors) blocks
        gidx = np.asarray(rows) * (self.A * self.A)  # flat offset of each decided replicate in the (R, A, A) ledgers
        gflat, aflat = self.griev.reshape(-1), self.griev_attack.reshape(-1)
        stance0 = self.stance[rows]
        x = x0.copy()
        dx = self._world_deltas(P, rel0)
        if dx is not None:
            x += dx
        esc = P.seg_sum(t.esc_delta[rows][ri, o] if t.esc_delta.ndim == 2 else t.esc_delta[o])
        # calming actions take a share of the tension, not fixed points: their declared points at the
        # index level calm_reference, proportionally fewer below it, so many mediators never drive a
        # region at war to calm while the strikes go on (esc already nets them off the impulses)
        calm = P.seg_sum(t.calm[o]) * core.take_rows(w("deescalation_gain"), rows)
        esc = esc + calm
        gold = P.seg_sum(t.goldstein[o])
        rung = P.seg_max(t.rung[o].astype(float), 0.0)
        tier = P.seg_max(t.tier[o].astype(float), 0.0).astype(np.int64)
        for j, _cols, vals in t.set_vars:  # sets: the larger value wins when two units set one variable
            pos = t.set_pos[j][o]
            if (pos >= 0).any():
                v = P.seg_max(np.where(pos >= 0, vals[np.maximum(pos, 0)], -np.inf), -np.inf)
                has = np.isfinite(v)
                x[has, j] = v[has]
        # relations, grievances, discharges and stances: scatters into flat (replicate, actor, ...) bins,
        # summed in the pairs' order
        answered = gflat[gidx[ri] + P.tt * self.A + a]  # the striker's grievance against its target
        drel = self._relation_moves(P, answered).reshape(P.n, self.A, self.A)
        dgr, dga = self._new_grievances(P, rel0, stance0, answered)
        dis = self._settlements(P)
        dst = self._stance_moves(P, rel0)
        self.x[rows] = x
        # relation variables (cohesion) receive third parties' effects through their relation
        for i, ra, rb in self.tables.dynamics.relation:
            drel[:, ra, rb] += x[:, i] - x0[:, i]
            self.x[rows, i] = x0[:, i]
        rel = rel0 + drel + drel.transpose(0, 2, 1)
        np.clip(rel, -1.0, 1.0, out=rel)
        self.rel[rows] = rel
        self.stance[rows] = np.clip(stance0 + dst, -1.0, 1.0)
        self._post_grievances(gidx, gflat, aflat, dis, dgr, dga)
        esc = self._intercept(P, esc)
        vi = self.vi
        ei = vi[self.tables.roles["escalation"]["var"]]
        self.x[rows, ei] = self.x[rows, ei] * np.exp(-calm / core.take_rows(w("calm_reference"), rows)) + esc
        for i, ra, rb in self.tables.dynamics.relation:  # relation variables follow their relation's new value
            self.x[rows, i] = self.rel[rows, ra, rb]
        rep = self.tables.roles["reporting"]
        self.x[rows, vi[rep["max_rung"]]] = np.maximum(self.x[rows, vi[rep["max_rung"]]], rung)
        self.x[rows, vi[rep["goldstein"]]] += gold
        units = np.array([u for u in t.canon if (g[:, u] != t.hold[u]).any()], dtype=np.int64)
        self._fronts(g, units, rows, day)
        self._openings(g, units, rows, rel0, day)
        self._orders(g, units, rows, day)
        hit = np.flatnonzero(tier > 0)
        self.tier_day[rows[hit], tier[hit]] = day

    def _world_deltas(self, P: _Pairs, rel0: np.ndarray) -> np.ndarray | None:
        """The pairs' moves of world variables, (n, V): each pair's few entries, summed per replicate in order."""
        t = self.opt
        o, V = P.o, self.V
        cnt = t.delta_ptr[o + 1] - t.delta_ptr[o]
        tot = int(cnt.sum())
        if not tot:
            return None
        first = np.repeat(t.delta_ptr[o], cnt)
        offs = np.arange(tot) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        ent = first + offs
        vals = t.delta_val[ent]
        if t.leverage.any():
            lv = t.leverage[o]
            if lv.any():  # leverage: the effect scales with the taker's standing with its target, squared
                f = np.where(lv, np.maximum(rel0[P.ri, P.a, P.tt], 0.0) ** 2, 1.0)
                vals = vals * np.repeat(f, cnt)
        return np.bincount(np.repeat(P.ri, cnt) * V + t.delta_var[ent], weights=vals, minlength=P.n * V).reshape(P.n, V)

    def _relation_moves(self, P: _Pairs, answered: np.ndarray) -> np.ndarray:
        """Relation changes, flat in (replicate, actor, other): the target's and third parties' reactions."""
        t, A = self.opt, self.A
        o = P.o
        size = P.n * A * A
        base = P.base
        drel = np.bincount(base + P.tt, weights=t.rel_target[o] * P.ht, minlength=size)
        rsel = np.flatnonzero(t.reacts[o])  # the few pairs whose option moves third parties
        if len(rsel):
            react = t.reactions[o[rsel]]
            # third parties react less to a blow that answers the target's own attack (provocation_discount)
            harm_t = P.ht[rsel] & t.harm[o[rsel]]
            provoked = np.where(harm_t, np.minimum(answered[rsel], 1.0), 0.0)
            dp = core.take_rows(self.tables.params.world("provocation_discount"), P.rows)
            dp = dp[P.ri[rsel]] if np.ndim(dp) else dp
            vals = react * (1.0 - dp * provoked)[:, None]
            idx = base[rsel][:, None] + np.arange(A)[None, :]
            drel += np.bincount(idx.ravel(), weights=vals.ravel(), minlength=size)
        return drel

    def _new_grievances(
        self, P: _Pairs, rel0: np.ndarray, stance0: np.ndarray, answered: np.ndarray
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """New grievance of each holder against each taker, flat in (replicate, taker, holder).

        Also its part left by attacks (acts at or above waiver_rung); (None, None) when nothing harmful happened.
        """
        t, A, w = self.opt, self.A, self.tables.params.world
        sev = t.severity[P.o] * P.ht
        gsel = np.flatnonzero(sev)
        if not len(gsel):
            return None, None
        r_, t_, a_, o_ = P.ri[gsel], P.tt[gsel], P.a[gsel], P.o[gsel]
        rows = P.rows
        # each holder's affinity with the target; a blow to a friend is felt at vicarious_grievance of
        # a blow to oneself (states rarely went to war over their friends' losses: Iran let Shukr pass)
        vg = core.take_rows(w("vicarious_grievance"), rows)
        vg = vg[r_][:, None] if np.ndim(vg) else vg
        gg = rel0[r_, :, t_]  # a gathered copy, worked on in place: (pairs, holders) is the largest block of a moment
        np.maximum(gg, 0.0, out=gg)
        np.square(gg, out=gg)
        gg *= vg
        gg[np.arange(len(gsel)), t_] = 1.0
        gg[~t.harm[o_]] = 0.0
        # the terms below are added only on the rows they are not zero on (adding 0.0 changes no float; the
        # stances and relations they read are finite, clipped to [-1, 1], so a skipped row's term is 0, never NaN)
        hrow = np.flatnonzero(t.help[o_])
        if len(hrow):
            hg = core.take_rows(w("help_grievance"), rows)
            hh = hg[r_[hrow]][:, None] if np.ndim(hg) else hg
            gg[hrow] += hh * np.maximum(-rel0[r_[hrow], :, t_[hrow]], 0.0) ** 2
        for si in t.violation_issues:
            viol = np.maximum(-t.align[o_, si], 0.0)
            vrow = np.flatnonzero(viol)
            if len(vrow):
                gg[vrow] += viol[vrow, None] * np.maximum(stance0[r_[vrow], :, si], 0.0)
        # an answer to the target's own attack aggrieves less: the exchange it closes was expected
        ans = np.where(t.harm[o_], np.minimum(answered[gsel], 1.0), 0.0)
        ad = core.take_rows(w("answer_discount"), rows)
        ad = ad[r_] if np.ndim(ad) else ad
        if self._last_word is not None:  # roles.last_word: an answer to their attack aggrieves in full
            ad = ad * ~self._last_word[t_]
        felt = sev[gsel] * (1.0 - ad * ans)  # the blow as its target feels it
        gg *= felt[:, None]
        gg[np.arange(len(gsel)), a_] = 0.0
        size = P.n * A * A
        idx = P.base[gsel][:, None] + np.arange(A)[None, :]
        dgr = np.bincount(idx.ravel(), weights=gg.ravel(), minlength=size)
        attack = t.rung[o_] >= float(self.tables.params.world("waiver_rung"))
        dga = np.bincount(idx[attack].ravel(), weights=gg[attack].ravel(), minlength=size) if attack.any() else None
        return self._host_blame(P, gsel, felt, attack, dgr, dga)

    def _host_blame(
        self, P: _Pairs, gsel: np.ndarray, felt: np.ndarray, attack: np.ndarray, dgr: np.ndarray, dga: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The states that host the striker's forces share the blame of a blow from their soil (roles.hosts)."""
        A = self.A
        size = P.n * A * A
        r_, t_, a_ = P.ri[gsel], P.tt[gsel], P.a[gsel]
        harm = self.opt.harm[P.o[gsel]]
        for striker, host_list in self.tables.roles.get("hosts", {}).items():
            if striker == "claims" or striker == "doc" or striker not in self.tables.actor_index:
                continue
            mine = harm & (a_ == self.tables.actor_index[striker])
            if not mine.any():
                continue
            hb = core.take_rows(self.tables.params.world("host_blame"), P.rows)
            hb = hb[r_[mine]] if np.ndim(hb) else hb
            for h in host_list:
                h_i = self.tables.actor_index.get(h)
                if h_i is None or not self.tables.active[h_i]:
                    continue
                keep = t_[mine] != h_i
                # the struck target's grievance against the host: dgr[r, host, holder = target]
                b = (r_[mine][keep] * A + h_i) * A + t_[mine][keep]
                v = felt[mine][keep] * (hb[keep] if np.ndim(hb) else hb)
                _scatter_add(dgr, b, v)
                att = attack[mine][keep]
                if att.any():
                    if dga is None:
                        dga = np.zeros(size)
                    _scatter_add(dga, b[att], v[att])
        return dgr, dga

    def _settlements(self, P: _Pairs) -> np.ndarray | None:
        """Share of each holder's grievance against its target that an answer settles, flat (r, holder, target)."""
        t, A = self.opt, self.A
        resp = t.resp[P.o] * t.harm[P.o] * P.ht
        dsel = np.flatnonzero(resp)
        if not len(dsel):
            return None
        w = self.tables.params.world
        dd = core.take_rows(w("grievance_discharge"), P.rows)
        dd = dd[P.ri[dsel]] if np.ndim(dd) else dd
        ex = core.take_rows(w("answer_settle_exponent"), P.rows)
        ex = ex[P.ri[dsel]] if np.ndim(ex) else ex
        weight = np.minimum(resp[dsel], 1.0) * np.minimum(t.rung[P.o[dsel]] / 9.0, 1.0) ** ex
        return np.bincount(P.base[dsel] + P.tt[dsel], weights=dd * weight, minlength=P.n * A * A)

    def _stance_moves(self, P: _Pairs, rel0: np.ndarray) -> np.ndarray:
        """Stance changes, (n, A, S): the taker's own and those it works on the target (through leverage)."""
        t, A, S = self.opt, self.A, self.S
        dst = np.zeros(P.n * A * S)
        ssel = np.flatnonzero(t.moves_own_stance[P.o])
        if len(ssel):
            ss = t.stance_self[P.o[ssel]]
            idx = ((P.ri[ssel] * A + P.a[ssel]) * S)[:, None] + np.arange(S)[None, :]
            dst += np.bincount(idx.ravel(), weights=ss.ravel(), minlength=P.n * A * S)
        tsel = np.flatnonzero(t.moves_target_stance[P.o] & P.ht)
        if len(tsel):
            stt = t.stance_target[P.o[tsel]]
            ri, a, tt = P.ri[tsel], P.a[tsel], P.tt[tsel]
            lv = np.where(t.leverage[P.o[tsel]], np.maximum(rel0[ri, a, tt], 0.0) ** 2, 1.0)
            idx = ((ri * A + tt) * S)[:, None] + np.arange(S)[None, :]
            dst += np.bincount(idx.ravel(), weights=(stt * lv[:, None]).ravel(), minlength=P.n * A * S)
        return dst.reshape(P.n, A, S)

    def _post_grievances(
        self,
        gidx: np.ndarray,
        gflat: np.ndarray,
        aflat: np.ndarray,
        dis: np.ndarray | None,
        dgr: np.ndarray | None,
        dga: np.ndarray | None,
    ) -> None:
        """Settle the old grievances first, then add the new, at the entries they touch.

        The rest would be multiplied by 1 and added 0: the same floats as a dense update.
        """
        A = self.A
        if dis is not None:
            key = np.flatnonzero(dis)
            r_loc, holder, target = key // (A * A), (key // A) % A, key % A
            at = gidx[r_loc] + target * A + holder
            settle = 1.0 - np.minimum(dis[key], 1.0)
            gflat[at] *= settle
            aflat[at] *= settle
        for ledger, new in ((gflat, dgr), (aflat, dga)):
            if new is not None:
                key = np.flatnonzero(new)
                ledger[gidx[key // (A * A)] + key % (A * A)] += new[key]

    def _intercept(self, P: _Pairs, esc: np.ndarray) -> np.ndarray:
        """Missiles launched at a defender meet its interceptor stock; a shortfall adds to the escalation."""
        t, w, vi, rows = self.opt, self.tables.params.world, self.vi, P.rows
        for defender, stock_var in self.tables.roles.get("interception", {}).get("defenders", {}).items():
            d_i = self.tables.actor_index[defender]
            need = P.seg_sum(np.where(t.target[P.o] == d_i, t.launches[P.o], 0.0))
            if not np.any(need > 0):
                continue
            need = need * core.take_rows(w("interceptors_per_missile"), rows)
            stock = self.x[rows, vi[stock_var]]
            used = np.minimum(stock, need)
            self.x[rows, vi[stock_var]] = stock - used
            short = np.where(need > 0, 1.0 - used / np.where(need > 0, need, 1.0), 0.0)
            esc = esc + core.take_rows(w("interceptor_shortfall_gain"), rows) * short
        return esc

    def _fronts(self, g: np.ndarray, units: np.ndarray, rows: np.ndarray, day: float) -> None:
        """Strikes land on their fronts: an exchange starts, becomes a sustained war, or breaks a ceasefire."""
        t, w = self.opt, self.tables.params.world
        thr = core.take_rows(w("sustained_threshold"), rows)
        offer_window = w("ceasefire_offer_days")
        x = self.x
        gs = g[:, units]
        fr = t.front[gs]
        for k, f in enumerate(self.fronts):
            on = fr == k
            if not on.any():
                continue
            n_str = (on & t.strike[gs]).sum(axis=1).astype(float)
            struck = n_str > 0
            if struck.any():
                r = rows[struck]
                recent = x[r, f.recent] + n_str[struck]
                x[r, f.recent] = recent
                x[r, f.now] += n_str[struck]
                x[r, f.since] = 0.0
                x[r, f.agreed] = 0.0
                ws = x[r, f.state]
                th = thr[struck] if np.ndim(thr) else thr
                new = np.where((ws == 2) | (recent >= th), 2.0, 1.0)
                if f.sustained >= 0:
                    x[r, f.sustained] += (new == 2) & (ws != 2)
                x[r, f.state] = new
                self.offer_day[r, k, :] = -np.inf
            offer = on & t.ceasefire[gs]
            if offer.any():
                sides = t.side[gs]
                for sd in (0, 1):
                    made = (offer & (sides == sd)).any(axis=1)
                    self.offer_day[rows[made], k, sd] = day
                ow = offer_window[rows][:, None] if np.ndim(offer_window) else offer_window
                both = np.all(self.offer_day[rows, k, :] >= day - ow - EPS, axis=1)
                fighting = (x[rows, f.state] == 1) | (x[rows, f.state] == 2)
                # a ceasefire is agreed by the offer that completes it, in that replicate (never by another
                # replicate's offer at the same moment)
                r = rows[both & fighting & ~struck & offer.any(axis=1)]
                x[r, f.agreed] = 1.0
                x[r, f.state] = 3.0
                self.offer_day[r, k, :] = -np.inf

    def _openings(self, g: np.ndarray, units: np.ndarray, rows: np.ndarray, rel0: np.ndarray, day: float) -> None:
        """A strike that ``opens`` gives its target and the target's close friends a decision ``reaction_days`` later."""
        t, w = self.opt, self.tables.params.world
        gs = g[:, units]
        op = t.opens[gs]
        if not op.any():
            return
        n = len(rows)
        struck = np.zeros((n, self.A), dtype=bool)
        rr, cc = np.nonzero(op)
        struck[rr, t.target[gs[rr, cc]]] = True
        thr = w("reaction_affinity")
        near = rel0 >= (thr[rows][:, None, None] if np.ndim(thr) else thr)  # near[r, b, t]
        idx = np.arange(self.A)
        near[:, idx, idx] = True
        concerned = (near & struck[:, None, :]).any(axis=2)
        concerned &= self.tables.active[None, :]
        # the delay may be sampled per replicate (deliberation takes days to weeks): an opening is the
        # replicate's own moment, so it never changes another replicate's calendar
        when = day + np.round(
            np.broadcast_to(np.asarray(core.take_rows(w("reaction_days"), rows), dtype=float), (len(rows),))
        )
        for u in range(t.U):
            if float(t.units[u].rate) <= 0:  # a track switched off is not reopened
                continue
            cu = concerned[:, t.unit_actor[u]]
            if cu.any():
                r = rows[cu]
                self.open_day[r, u] = np.minimum(self.open_day[r, u], when[cu])

    def _orders(self, g: np.ndarray, units: np.ndarray, rows: np.ndarray, day: float) -> None:
        """An order schedules its delivery after the lead time (the tier records what arrives)."""
        if not len(self.opt.pipelines):
            return
        dl = self.opt.delivery[g[:, units]]
        for p, pl in enumerate(self.opt.pipelines):
            made = (dl == p).any(axis=1)
            if not made.any():
                continue
            r = rows[made]
            lead = core.take_rows(self.tables.params.world(pl["after"]), r)
            pending = np.isfinite(self.arrive[r, p])
            self.arrive[r, p] = np.where(pending, self.arrive[r, p], day + lead)

    def _deliveries(self, day: float) -> None:
        if not len(self.opt.pipelines):
            return
        for p, pl in enumerate(self.opt.pipelines):
            due = self.arrive[:, p] <= day + EPS
            if not due.any():
                continue
            r = np.flatnonzero(due)
            self.x[r] += pl["delta"][None, :]
            if pl["tier"] > 0:
                self.tier_day[r, pl["tier"]] = day
            self.arrive[r, p] = np.inf

    # ------------------------------------------------------------------ records
    def _record_choices(self, s: int, c: core.Choice) -> None:
        """The step's record per unit: its highest-rung choice of the step (forced and bound accumulate)."""
        i = s - 1
        rows = c.rows
        rung = self.opt.rung[c.g]
        rung = np.where(c.due, rung, -1)
        better = rung >= self._rung_rec[rows]
        rec = self.choices[i, rows]
        self.choices[i, rows] = np.where(better & c.due, c.local, rec)
        self._rung_rec[rows] = np.where(better, rung, self._rung_rec[rows])
        self.forced[i, rows] |= c.forced
        self.bound[i, rows] |= c.bound

    def _extremes(self, rows: Any) -> None:
        """Fold the state of some replicates into the step's highest and lowest values."""
        if not hasattr(self, "_hi"):
            return
        x = np.clip(self.x[rows], self.tables.lower, self.tables.upper)
        self._hi[rows] = np.maximum(self._hi[rows], x)
        self._lo[rows] = np.minimum(self._lo[rows], x)

    def _record(self, step: int) -> None:
        np.clip(self.x, self.tables.lower, self.tables.upper, out=self.x)
        self.series[step] = self.x
        c = self._xcols if self._xcols is not None else slice(None)
        if step == 0 or not hasattr(self, "_hi"):
            self.series_hi[step] = self.series_lo[step] = self.series_mean[step] = self.x[:, c]
        else:
            self.series_hi[step] = np.maximum(self._hi, self.x)[:, c]
            self.series_lo[step] = np.minimum(self._lo, self.x)[:, c]
            self.series_mean[step] = np.clip(self._area / self.dt, self.tables.lower, self.tables.upper)[:, c]
        for j, name in enumerate(self.extra_names):
            self.extra[step, :, j] = self.lookup(name)
        last = step >= self.config.steps  # a mark on the horizon's last day is the state at the end of the run
        while self._next_mark < len(self.mark_days) and (
            self.mark_days[self._next_mark] + 1.0 <= self.day + EPS
            or (last and self.mark_days[self._next_mark] <= self.day + EPS)
        ):
            self._snapshot_mark(self._next_mark)
            self._next_mark += 1

    def _snapshot_mark(self, k: int) -> None:
        x = np.clip(self.x, self.tables.lower, self.tables.upper)
        self.mark_series[k] = x
        for j, name in enumerate(self.extra_names):
            self.mark_extra[k, :, j] = self.lookup(name)

    # ------------------------------------------------------------------ dynamics
    def _dynamics(self, rows: Any, t1: float, span: Any) -> None:
        """Advance some replicates by ``span`` days (scalar or per replicate); every new value reads one snapshot.

        The noise over a span is a normal draw keyed by the replicate and the span's end day, scaled by
        sqrt(span), so its distribution does not depend on how the days are cut into steps and moments.
        """
        t = self.tables
        dyn = t.dynamics
        view = core.RowView(t.view, rows)
        dt = span if np.ndim(span) == 0 else np.asarray(span, dtype=float)
        x0 = self.x[rows].copy()
        new = x0.copy()
        for i, hl in dyn.decay:
            new[:, i] = x0[:, i] * _decay(view[hl], dt)
        look = self.lookup_snapshot(x0, rows)
        for i, target, rate in dyn.revert:
            theta = 1.0 - np.exp(-np.asarray(view[rate], dtype=float) * dt)
            new[:, i] = new[:, i] + theta * (expr.evaluate(target, look, view) - x0[:, i])
        for i, rate in dyn.rate:
            new[:, i] = new[:, i] + dt * np.asarray(expr.evaluate(rate, look, view), float)
        if dyn.noise and not self._quiet:
            z = rng.normals(self.keys[rows], int(round(t1 * 1024.0)) % (1 << 62), "noise", len(dyn.noise))
            for j, (i, sd) in enumerate(dyn.noise):
                new[:, i] = new[:, i] + view[sd] * np.sqrt(dt) * z[:, j]
        for i, hl in dyn.upper_param:
            new[:, i] = np.minimum(new[:, i], view[hl])
        rel = self.rel[rows]
        for i, a, b in dyn.relation:
            rel[:, a, b] = rel[:, b, a] = np.clip(new[:, i], -1.0, 1.0)
        w = view.__getitem__
        keep = [(a, b, rel[:, a, b].copy()) for _, a, b in dyn.relation]
        rel += _per_rep(1.0 - np.exp(-np.asarray(w("relation_reversion"), float) * dt)) * (self.rel0[rows] - rel)
        for a, b, v in keep:
            rel[:, a, b] = rel[:, b, a] = v
        self.rel[rows] = rel
        st = self.stance[rows]
        st += _per_rep(1.0 - np.exp(-np.asarray(w("stance_reversion"), float) * dt)) * (self.stance0[rows] - st)
        self.stance[rows] = st
        gdecay = _per_rep(_decay(w("grievance_half_life"), dt))
        self.griev[rows] *= gdecay  # in place where rows is a slice (a whole-batch moment)
        self.griev_attack[rows] *= gdecay
        self.x[rows] = new

    def lookup_snapshot(self, x0: np.ndarray, rows: Any = None) -> Any:
        """A lookup that reads world variables from a snapshot of some replicates (relations and stances as they stand)."""
        vi = self.vi
        other = self.row_lookup(slice(None) if rows is None else rows)

        def look(name: str) -> Any:
            if name in vi:
                return x0[:, vi[name]]
            return other(name)

        return look

    def _update_derived(self, rows: Any = None) -> None:
        """Derived variables at the current day (support tier window, relation variables, expressions).

        Only for the replicates at this moment (``rows``; all by default): a replicate's derived values
        are those of its own last moment, never of a moment another replicate of the batch brought.
        """
        rows = slice(None) if rows is None else rows
        t = self.tables
        x = self.x[rows]
        for i, _ in t.dynamics.tier:
            window = core.take_rows(np.asarray(t.params.world("tier_window_days"), dtype=float), rows)
            live = (self.day - self.tier_day[rows]) < (window[:, None] if np.ndim(window) else window)
            levels = np.arange(t.n_tiers)[None, :]
            x[:, i] = np.max(np.where(live, levels, 0), axis=1)
        rel = self.rel[rows]
        rel_of = {i: (a, b) for i, a, b in t.dynamics.relation}
        for i, param in t.dynamics.upper_param:
            if i in rel_of:
                a, b = rel_of[i]
                rel[:, a, b] = rel[:, b, a] = np.minimum(rel[:, a, b], core.take_rows(t.view[param], rows))
        self.rel[rows] = rel
        for i, a, b in t.dynamics.relation:
            x[:, i] = rel[:, a, b]
        look = self.lookup_snapshot(x, rows)
        view = core.RowView(t.view, rows)
        for i, node in t.dynamics.derived:  # in file order: a derived variable may read an earlier one
            x[:, i] = expr.evaluate(node, look, view)
        self.x[rows] = x

    def run(self, steps: int | None = None) -> None:
        """Run the configured horizon (or ``steps`` more steps)."""
        n = self.config.steps if steps is None else steps
        if not self._started:
            self._start()
        for _ in range(n):
            self.step()  # Mesa's wrapped step: it advances ``self.steps`` and calls ours


_COMPILED_WORLD = {"escalation_gain", "escalation_exponent", "deescalation_gain", "decision_phase", "step_days"}


def _compiled_in(path: str, tables: Any) -> bool:
    """Whether a parameter is compiled into the option tables (a change of it rebuilds them)."""
    head, _, rest = path.partition(".")
    if head == "world":
        tracks = {d["rate"] for d in tables.params.spec["world"]["tracks"].values()}
        return rest in _COMPILED_WORLD or rest in tracks
    if head == "constraints":
        return path.endswith(".lifted")
    return True


def _combine(op: str, old: Any, value: Any) -> Any:
    """A dated change's new value: set it, shift it or scale it (keeping a sampled value's spread)."""
    if op == "shift":
        return np.asarray(old, dtype=float) + float(value)
    if op == "scale":
        return np.asarray(old, dtype=float) * float(value)
    return float(value) if not isinstance(value, bool) else value


def _day_thresholds(node: expr.Node) -> list[float]:
    """Days at which a condition on ``day`` or ``week`` can start to hold (``day >= 152`` gives 152)."""
    out: list[float] = []

    def walk(n: expr.Node) -> None:
        if n.op in (">=", ">", "<=", "<", "==") and len(n.args) == 2:
            a, b = n.args
            for name_node, num_node in ((a, b), (b, a)):
                if (
                    isinstance(name_node, expr.Node)
                    and name_node.op == "name"
                    and name_node.args[0] in ("day", "week")
                    and isinstance(num_node, expr.Node)
                    and num_node.op == "num"
                ):
                    v = float(num_node.args[0]) * (7.0 if name_node.args[0] == "week" else 1.0)
                    out.append(v + (EPS * 10 if n.op in (">", "<") else 0.0))
        for a in n.args:
            if isinstance(a, expr.Node):
                walk(a)

    walk(node)
    return out
