"""The Mesa model: the world, its step order and its generic mechanisms, vectorised over replicates.

Step order for step s, which covers the days ((s-1) dt, s dt] (docs/model.md has the equations).
Every decision unit decides on one clock common to all actors (cycle points at
``(n + decision_phase) / rate`` days); the step's *action time* is its cycle point, or its
midpoint when it holds none (then only events act):

1. Dated changes due at s are applied (parameters, actors leaving, relations, variables).
2. The world's own dynamics advance the state from the step's start to its action time:
   decays, reversions, rates, noise, relation, stance and grievance drift, each new value
   computed from the same snapshot, so the order of variables cannot matter.
3. Events due at s are resolved on that state: scheduled events from their step on until
   applied, and conditional events whose condition holds (``day`` and ``week`` in a
   condition are the end of step s, so ``when: "week >= 3"`` and ``at: 3`` agree).
4. Every decision unit with a cycle point in the step decides on that same state
   (``agents.do("decide")``); the others hold.
5. The chosen actions' effects land at the action time (``agents.do("act")`` adds them to
   accumulators that are sums or maxima, read off the relations, stances and grievances
   the decisions saw): deltas, sets (the larger value wins when two units set one
   variable), relations, grievances, stances, escalation impulses, interceptions; then the
   war mechanism (strikes, sustained war) and the support tiers reached.
6. The dynamics advance the state from the action time to the end of the step; a lull
   long enough ends the fighting; derived variables (support tier window, relation
   variables, expressions in file order) are updated and the state is recorded.

Decisions and their effects therefore happen at the same dates at any step length: a
weekly step and seven daily steps integrate the same week around the same moment of
choice (tests/test_steplength.py).

Nothing here names an actor, interest, issue or action: those arrive as roles and tables
from the catalog (model/catalog/world.yaml ``roles``).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import mesa
import numpy as np

from model import expr
from model.engine import rng
from model.engine.agents import ActorAgent, Decision
from model.engine.config import Config, set_value
from model.engine.tables import Params, UnitTable, compile_tables

LN2 = float(np.log(2.0))


def _decay(half_life_days: Any, dt: float) -> Any:
    return np.exp(-LN2 * dt / np.asarray(half_life_days, dtype=float))


def _per_rep(v: Any) -> Any:
    """A scalar, or a per-replicate (R,) factor shaped to scale (R, A, A) or (R, A, S) arrays."""
    return v[:, None, None] if np.ndim(v) == 1 else v


class EntenteModel(mesa.Model):
    """A batch of replicates of one configuration; a single replicate is a batch of one.

    Args:
        config: the resolved configuration (catalog after overrides, events, uncertainties).
        replicates: replicate indices to simulate, or a count (indices 0..n-1).
        detail: keep full decision records (utilities, feasibility, constraint hits) per step;
            meant for a few replicates (explain), not for ensembles.
        order: the order in which decision units are activated (a permutation of their
            indices); results do not depend on it, and a test checks that.
    """

    def __init__(
        self,
        config: Config,
        replicates: Sequence[int] | np.ndarray | int = 1,
        *,
        detail: bool = False,
        order: Sequence[int] | None = None,
    ) -> None:
        super().__init__(rng=int(config.seed) % 2**32)
        self.config = config
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
        for tab in t.actor_tables:
            if np.any(np.asarray(tab.rate, dtype=float) * self.dt > 1.0 + 1e-9):
                raise ValueError(
                    f"step_days {self.dt:g} is longer than the mean interval between {tab.label} decisions "
                    f"(1 / rate = {1.0 / float(np.max(tab.rate)):.3g} days); use a shorter step"
                )

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
        # support tiers: the day each tier was last reached (support is reversible, C58)
        self.tier_day = np.full((R, t.n_tiers), -np.inf)
        for i, _ in t.dynamics.tier:
            k0 = self.x[:, i].astype(np.int64)
            self.tier_day[np.arange(R), np.clip(k0, 0, t.n_tiers - 1)] = 0.0

        self._build_agents(order)
        self._events = self._compile_events(config)
        self._changes = sorted(config.changes, key=lambda c: c.step)
        self._reset_reporting()

        if config.policy not in ("model", "inert", "hawk"):
            raise ValueError(f"policy must be 'model', 'inert' or 'hawk', not {config.policy!r}")
        # choice counters (count.<actor>.<action>[.<target>]): cumulative choices per global option
        self.counts = np.zeros((self.R, self.n_options))
        self._count_cols = self._count_columns()
        T = config.steps
        self.extra_names = sorted(
            {n for d in config.outcome_defs.values() for n in expr.parse(d["expr"], t.names).names()} - set(self.vi)
        )
        self.series = np.zeros((T + 1, R, self.V))
        self.extra = np.zeros((T + 1, R, len(self.extra_names)))
        self._record(0)
        U = len(t.actor_tables)
        self.choices = np.zeros((T, R, U), dtype=np.int16)
        self.bound = np.zeros((T, R, U), dtype=np.int64)
        self.forced = np.zeros((T, R, U), dtype=bool)
        self.event_step = np.zeros((len(self._events), R), dtype=np.int32)  # step applied, 0 = never
        self.event_deferred = np.zeros((len(self._events), R), dtype=np.int32)  # steps it lost to another event
        self.event_blocked = np.zeros((len(self._events), R), dtype=np.int32)  # steps a constraint blocked it
        self.records: list[list[Decision]] = []
        self.mark_days = np.asarray(sorted(float(m) for m in config.marks), dtype=float)
        self.mark_series = np.zeros((len(self.mark_days), self.R, self.V))
        self.mark_extra = np.zeros((len(self.mark_days), self.R, len(self.extra_names)))

    # ------------------------------------------------------------------ set-up
    def _reset_reporting(self) -> None:
        rep = self.tables.roles["reporting"]
        for key in ("max_rung", "goldstein"):
            self.x[:, self.vi[rep[key]]] = 0.0

    def _build_agents(self, order: Sequence[int] | None) -> None:
        for agent in list(getattr(self, "units", [])):
            agent.remove()
        tabs = self.tables.actor_tables
        idx = list(order) if order is not None else list(range(len(tabs)))
        if sorted(idx) != list(range(len(tabs))):
            raise ValueError("order must be a permutation of the decision units")
        self._order = idx
        made = {i: ActorAgent(self, tabs[i]) for i in idx}
        self.units: list[ActorAgent] = [made[i] for i in range(len(tabs))]
        self.n_options = sum(len(tab.options) for tab in tabs)

    def _count_columns(self) -> dict[str, np.ndarray]:
        """Global option columns behind each choice counter name."""
        cols: dict[str, list[int]] = {}
        for g, (unit, act, tgt) in enumerate(self.tables.option_labels):
            actor = unit.split(":")[0]
            if act == self.tables.roles["hold"]["action"]:
                continue
            cols.setdefault(f"count.{actor}.{act}", []).append(g)
            if tgt != "none":
                cols.setdefault(f"count.{actor}.{act}.{tgt}", []).append(g)
        return {k: np.asarray(v, dtype=np.int64) for k, v in cols.items()}

    def lookup(self, name: str) -> Any:
        """Value of a name used in expressions, per replicate (the current state)."""
        if name in self.vi:
            return self.x[:, self.vi[name]]
        if name.startswith("count."):
            cols = self._count_cols.get(name)
            return self.counts[:, cols].sum(axis=1) if cols is not None else np.zeros(self.R)
        step = self.steps
        if name == "step":
            return float(step)
        if name == "week":
            return float(step * self.dt / 7.0)
        if name == "day":
            return float(step * self.dt)
        kind, a, b = name.split(".")
        ai = self.tables.actor_index
        if kind == "relation":
            return self.rel[:, ai[a], ai[b]]
        return self.stance[:, ai[a], self.tables.issues.index(b)]

    def _compile_events(self, config: Config) -> list[dict[str, Any]]:
        out = []
        for ev in config.events:
            unit = None
            for tab in self.tables.actor_tables:
                if tab.name == ev.actor and (ev.action, ev.target) in tab.options:
                    unit = tab
            if unit is None:
                raise ValueError(f"event: {ev.actor} cannot take {ev.action} against {ev.target}")
            cond = expr.parse(ev.when, self.tables.names) if ev.when else None
            out.append(
                {
                    "event": ev,
                    "unit": unit.unit,
                    "option": unit.options.index((ev.action, ev.target)),
                    "cond": cond,
                    "fired": np.zeros(self.R, dtype=bool),
                }
            )
        return out

    def _candidates(self, step: int) -> tuple[np.ndarray, list[np.ndarray]]:
        """Which event each unit is asked to take this step; the first listed event wins a unit.

        Returns the forced option per (replicate, unit) and, per event, where it is the
        winning candidate. An event that loses (another event holds its unit) or is blocked
        by a constraint stays pending: an event is consumed only when it is applied.
        """
        U = len(self.tables.actor_tables)
        forced = np.full((self.R, U), -1, dtype=np.int64)
        won = []
        for k, e in enumerate(self._events):
            ev = e["event"]
            if ev.step is not None:
                cand = np.full(self.R, ev.step <= step) & ~e["fired"]
            else:
                cand = np.broadcast_to(expr.truth(expr.evaluate(e["cond"], self.lookup)), (self.R,)).copy()
                if ev.once:
                    cand &= ~e["fired"]
                else:  # a standing policy is carried out at the unit's own decision times
                    cand &= self._opportunity[:, e["unit"]]
            col = forced[:, e["unit"]]
            win = cand & (col < 0)
            self.event_deferred[k] += cand & ~win
            forced[:, e["unit"]] = np.where(win, e["option"], col)
            won.append(win)
        return forced, won

    def _apply_changes(self, step: int) -> None:
        due = [c for c in self._changes if c.step == step]
        if not due:
            return
        spec = copy.deepcopy(self.config.spec)
        params: Params = self.tables.params
        for ch in due:
            for path, value in ch.values.items():
                head = path.split(".")[0]
                if head == "variables":
                    self.x[:, self.vi[path.split(".", 1)[1]]] = value
                elif head == "relations":
                    a, b = path.split(".", 1)[1].split("-")
                    i, j = self.tables.actor_index[a], self.tables.actor_index[b]
                    self.rel[:, i, j] = self.rel[:, j, i] = value
                    self.rel0[:, i, j] = self.rel0[:, j, i] = value
                elif head == "actors" and path.endswith(".active"):
                    spec["actors"][path.split(".")[1]]["active"] = bool(value)
                elif head == "axis":
                    spec["axis"]["sides"][path.split(".")[1]] = value
                else:
                    set_value(spec, path, value)
                    params.values[path] = float(value)
        self.config = copy.copy(self.config)
        self.config.spec = spec
        decisions = [u.decision for u in self.units]
        self.tables = compile_tables(self.config, self.keys, self.replicates, params=params)
        self._build_agents(self._order)
        for u, d in zip(self.units, decisions, strict=True):
            u.decision = d
        for e in self._events:  # option indices are unchanged: tables keep their option lists
            e["cond"] = expr.parse(e["event"].when, self.tables.names) if e["event"].when else None

    # ------------------------------------------------------------------ step
    def step(self) -> None:
        """Advance every replicate by one step (step order in the module docstring)."""
        step = self.steps  # Mesa increments it before calling step()
        self._apply_changes(step)
        t = self.tables
        U = len(t.actor_tables)
        d0, d1 = (step - 1) * self.dt, step * self.dt
        self._opportunity, t_act = self._opportunities(step)
        # the world runs on to the step's decision time, where everyone decides and acts at once
        self._dynamics(step, t_act - d0, "noise")
        since = self.vi[t.roles["war"]["since"]]
        self.x[:, since] += t_act - d0  # a clock: decisions read the days since the last strike at their time
        self._update_derived(t_act)
        self._forced, won = self._candidates(step)
        if self._opportunity.any() or (self._forced >= 0).any() or self.detail:
            self._noise = rng.gumbel(self.keys, step, "choice", self.n_options)
            self._tremble_u = rng.uniforms(self.keys, step, "tremble", U)
            self._pick_u = rng.uniforms(self.keys, step, "tremble_pick", U)
        else:  # nobody decides in this step (a fine step between cycle points): no draws are read
            self._noise = np.zeros((self.R, self.n_options), dtype=np.float32)
            self._tremble_u = self._pick_u = np.ones((self.R, U))
        self.agents.do("decide")
        decisions = [u.decision for u in self.units]
        for k, e in enumerate(self._events):
            d = decisions[e["unit"]]
            applied = won[k] & d.forced
            blocked = won[k] & ~d.forced
            e["fired"] |= applied
            # an event stands in for the unit's decision of this cycle: when the step held none of its
            # cycle points (finer steps), the next one is skipped, as a weekly step replaces it
            self._skip[:, e["unit"]] |= applied & ~self._opportunity[:, e["unit"]]
            self.event_step[k] = np.where(applied, step, self.event_step[k])
            self.event_blocked[k] += blocked
        self._start = (self.x.copy(), self.rel.copy(), self.stance.copy(), self.griev.copy())
        self._rel_by_target = np.ascontiguousarray(self._start[1].transpose(2, 0, 1))  # [t] -> (R, A) rel(., t)
        self._begin_accumulators()
        # effects are sums: add them in the catalog's unit order so that any activation order gives
        # bitwise the same floats (decisions never depend on the order)
        self.agents.sort(key=lambda agent: agent.table.unit, ascending=True).do("act")
        self._land()
        since = self._war()
        self._tier(t_act, decisions)
        # ... and on from the decision time to the end of the step
        self._dynamics(step, d1 - t_act, "noise_late")
        self._ceasefire(since + (d1 - t_act))
        self._update_derived(np.full(self.R, d1))
        i = step - 1
        off = t.option_offset
        for u, d in enumerate(decisions):
            acted = np.flatnonzero(d.choice > 0)
            self.counts[acted, off[u] + d.choice[acted]] += 1.0
        self._record(step)
        for k in np.flatnonzero((self.mark_days > d0 + 1e-9) & (self.mark_days <= d1 + 1e-9)):
            self.mark_series[k] = self.x
            for j, name in enumerate(self.extra_names):
                self.mark_extra[k, :, j] = self.lookup(name)
        for u, d in enumerate(decisions):
            self.choices[i, :, u] = d.choice
            self.bound[i, :, u] = d.bound
            self.forced[i, :, u] = d.forced
        if self.detail:
            self.records.append(decisions)

    def _record(self, step: int) -> None:
        np.clip(self.x, self.tables.lower, self.tables.upper, out=self.x)
        self.series[step] = self.x
        for j, name in enumerate(self.extra_names):
            self.extra[step, :, j] = self.lookup(name)

    # ------------------------------------------------------------------ effects
    def _begin_accumulators(self) -> None:
        R, A, S, V = self.R, self.A, self.S, self.V
        self.acc = {
            "dx": np.zeros((R, V)),
            "set": np.full((R, V), -np.inf),
            # accumulators indexed by the acting actor first, so that each unit writes one
            # contiguous (R, ...) block; _land turns them back into (R, A, A)
            "drel": np.zeros((A, R, A)),  # one-sided: drel[a, r, x] changes relation(a, x) and (x, a)
            "dstance": np.zeros((R, A, S)),
            "dgriev": np.zeros((A, R, A)),  # dgriev[a, r, holder]: new grievance of holder against a
            "discharge": np.zeros((A, R, A)),  # discharge[a, r, t]: share of a's grievance against t settled
            "esc": np.zeros(R),
            "strikes": np.zeros(R),
            "launches": {},
            "ceasefire": np.zeros(R, dtype=bool),
            "rung": np.zeros(R, dtype=np.int64),
            "gold": np.zeros(R),
        }

    def accumulate(self, tab: UnitTable, d: Decision) -> None:
        """Add one unit's chosen options' effects to the step's accumulators.

        Reads only the relations, stances and grievances the decisions saw, and only adds (or
        takes maxima), so the order in which units act cannot change the result. Works on the
        replicates in which the unit did something (holding has no effect).
        """
        acc = self.acc
        _, rel0, stance0, griev0 = self._start
        act = np.flatnonzero(d.choice)
        if not len(act):
            return
        c = d.choice[act]
        a = tab.index
        p = self.tables.params
        cols = tab.delta_cols
        dx = acc["dx"]
        dense = len(act) * 4 > self.R  # most replicates acted: whole-column arithmetic beats scatters
        for j, col in enumerate(cols):  # the few variables this unit's options move
            if dense:
                dx[:, col] += tab.delta_compact[:, j][d.choice]
            else:
                dx[act, col] += tab.delta_compact[c, j]
        ed = tab.esc_delta
        acc["esc"][act] += ed[act, c] if ed.ndim == 2 else ed[c]
        acc["strikes"][act] += tab.direct[c]
        launches = tab.launches[c]
        if launches.any():
            tgt_name = self.tables.actors[int(tab.target[c[launches > 0][0]])]
            full = acc["launches"].setdefault(tgt_name, np.zeros(self.R))
            full[act] += launches
        tgt = tab.target[c]
        has_t = tgt >= 0
        tsafe = np.where(has_t, tgt, 0)
        drel = acc["drel"]
        # third parties' reactions; they blame a striker less when its target had aggrieved it first
        if tab.has_reactions:
            react = tab.reactions[c]
            harm_t = has_t & tab.harm[c]
            if harm_t.any():
                provoked = np.where(harm_t, np.minimum(griev0[act, tsafe, a], 1.0), 0.0)
                disc = p.world("provocation_discount")
                disc = disc[act] if isinstance(disc, np.ndarray) else disc
                react = react * (1.0 - disc * provoked)[:, None]
            drel[a] += self._rows(act, react)
        rt = tab.rel_target[c] * has_t
        drel[a, act, tsafe] += rt
        # grievances: harm to those I like, help to those I dislike, stances violated
        sev = tab.severity[c] * has_t
        hit = np.flatnonzero(sev)
        if len(hit):
            rows, ca, ta = act[hit], c[hit], tsafe[hit]
            aff = np.empty((len(hit), self.A))
            for t in np.unique(ta):  # few targets: gather each target's column block once
                m = ta == t
                aff[m] = self._rel_by_target[t][rows[m]]
                aff[m, t] = 1.0
            # only close friends are aggrieved on another's behalf (affinity squared); help to an
            # enemy aggrieves less than harm to oneself or a friend
            g = np.where(tab.harm[ca][:, None], np.maximum(aff, 0.0) ** 2, 0.0)
            if tab.help[ca].any():
                hg = p.world("help_grievance")
                hg = hg[rows][:, None] if isinstance(hg, np.ndarray) else hg
                g += np.where(tab.help[ca][:, None], hg * np.maximum(-aff, 0.0) ** 2, 0.0)
            for s in tab.violation_issues:
                viol = np.maximum(-tab.align[ca, s], 0.0)
                if np.any(viol):
                    g += viol[:, None] * np.maximum(stance0[rows, :, s], 0.0)
            g *= sev[hit][:, None]
            g[:, a] = 0.0
            acc["dgriev"][a] += self._rows(rows, g)
        # answering a grievance settles it in proportion to the answer
        resp = tab.resp[c] * tab.harm[c] * has_t
        rr = np.flatnonzero(resp)
        if len(rr):
            # words vent little (a rung-3 warning settles 1/27 of what a rung-9 strike does)
            weight = np.minimum(resp[rr], 1.0) * np.minimum(tab.rung[c[rr]] / 9.0, 1.0) ** 3
            discharge = p.world("grievance_discharge")
            discharge = discharge[act[rr]] if isinstance(discharge, np.ndarray) else discharge
            acc["discharge"][a, act[rr], tsafe[rr]] += discharge * weight
        if tab.has_stance_effects:
            srows = np.flatnonzero(tab.stance_self_any[c])
            if len(srows):
                acc["dstance"][act[srows], a, :] += tab.stance_self[c[srows]]
            srows = np.flatnonzero(tab.stance_target_any[c] & has_t)
            if len(srows):
                acc["dstance"][act[srows], tsafe[srows], :] += tab.stance_target[c[srows]]
        if tab.has_sets:
            srows = np.flatnonzero(tab.set_any[c])
            if len(srows):
                r = act[srows]
                sm = tab.set_mask[c[srows]]
                acc["set"][r] = np.maximum(acc["set"][r], np.where(sm, tab.set_value[c[srows]], -np.inf))
        if tab.ceasefire.any():
            acc["ceasefire"][act] |= tab.ceasefire[c]
        acc["rung"][act] = np.maximum(acc["rung"][act], tab.rung[c])
        acc["gold"][act] += tab.goldstein[c]

    def _opportunities(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        """Which units decide in this step, (R, U) bool, and the step's decision time, (R,) days.

        Every unit decides on a regular cycle of ``1 / rate`` days (a weekly cabinet, the Security
        Council's rhythm) on a clock common to all actors: cycle points fall at
        ``(n + decision_phase) / rate`` days. A step of (d0, d1] holds a decision when a cycle
        point falls in it, and everyone decides on the state at that point and acts at once: a
        weekly game of simultaneous moves whose moves happen at the same dates whatever the step
        length (step lengths only change how finely the world between decisions is integrated and
        recorded). A step without a cycle point has its (event) actions at its midpoint. When
        units with different rates have cycle points at different times in one step, all act at
        the earliest of them (exact only when no step holds two distinct cycle points).
        """
        t = self.tables
        d0, d1 = (step - 1) * self.dt, step * self.dt
        phase = np.asarray(t.params.world("decision_phase"), dtype=float)
        out = np.zeros((self.R, len(t.actor_tables)), dtype=bool)
        t_act = np.full(self.R, np.inf)
        for u, tab in enumerate(t.actor_tables):
            rate = np.broadcast_to(np.asarray(tab.rate, dtype=float), (self.R,))
            with np.errstate(divide="ignore", invalid="ignore"):
                cycle = np.where(rate > 0, 1.0 / np.where(rate > 0, rate, 1.0), np.inf)
                # a cycle point within a microsecond-scale tolerance of a step's end belongs to that step
                n1 = np.floor((d1 + 1e-6) / cycle - phase)
                hit = (rate > 0) & (n1 > np.floor((d0 + 1e-6) / cycle - phase))
                point = np.where(hit, (n1 + phase) * cycle, np.inf)
            out[:, u] = hit
            t_act = np.minimum(t_act, point)
        t_act = np.where(np.isfinite(t_act), np.clip(t_act, d0, d1), d0 + 0.5 * self.dt)
        if not hasattr(self, "_skip"):
            self._skip = np.zeros_like(out)
        used = out & self._skip  # a cycle point already taken by an event
        self._skip &= ~out
        return out & ~used, t_act

    def _rows(self, rows: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Values for some replicates as a full (R, ...) array (zeros elsewhere), for slice updates.

        Adding a full array to a strided slice of a 3-D accumulator is much faster than a
        fancy-indexed scatter into it once more than a few replicates act.
        """
        full = np.zeros((self.R, *values.shape[1:]))
        full[rows] = values
        return full

    def _land(self) -> None:
        """Apply the accumulated effects of every unit's action to the advanced state."""
        x, vi, acc, t = self.x, self.vi, self.acc, self.tables
        dx = acc["dx"]
        for i, a, b in t.dynamics.relation:  # third parties' effects on a relation variable
            acc["drel"][a, :, b] += dx[:, i]
            dx[:, i] = 0.0
        x += dx
        has_set = np.isfinite(acc["set"])
        x[has_set] = acc["set"][has_set]
        one_sided = acc["drel"].transpose(1, 0, 2)  # (R, A, A): changes of relation(a, x)
        self.rel += one_sided + one_sided.transpose(0, 2, 1)
        np.clip(self.rel, -1.0, 1.0, out=self.rel)
        self.stance += acc["dstance"]
        np.clip(self.stance, -1.0, 1.0, out=self.stance)
        # griev[r, target, holder]; discharge[a, r, t] settles a's grievance against t = griev[r, t, a]
        self.griev -= np.minimum(acc["discharge"].transpose(1, 2, 0), 1.0) * self.griev
        self.griev += acc["dgriev"].transpose(1, 0, 2)
        # interception: missiles launched at a defender meet its interceptor stock
        esc = acc["esc"]
        p = t.params
        for defender, stock_var in t.roles.get("interception", {}).get("defenders", {}).items():
            launches = acc["launches"].get(defender)
            if launches is None:
                continue
            need = launches * p.world("interceptors_per_missile")
            stock = x[:, vi[stock_var]]
            used = np.minimum(stock, need)
            x[:, vi[stock_var]] = stock - used
            shortfall = np.where(need > 0, 1.0 - used / np.where(need > 0, need, 1.0), 0.0)
            esc = esc + p.world("interceptor_shortfall_gain") * shortfall
        esc_var = t.roles["escalation"]["var"]
        x[:, vi[esc_var]] += esc
        for i, a, b in t.dynamics.relation:  # relation variables follow their relation's new value
            x[:, i] = self.rel[:, a, b]
        rep = t.roles["reporting"]
        x[:, vi[rep["max_rung"]]] = acc["rung"]
        x[:, vi[rep["goldstein"]]] = acc["gold"]

    def _war(self) -> np.ndarray:
        """The war state at the decision time: strikes land, an exchange starts or becomes a war.

        Returns the days since the last direct strike at the decision time; :meth:`_ceasefire`
        carries it to the end of the step.
        """
        x, vi, w = self.x, self.vi, self.tables.params.world
        role = self.tables.roles["war"]
        n = self.acc["strikes"]
        struck = n > 0
        recent = x[:, vi[role["recent"]]] + n
        x[:, vi[role["recent"]]] = recent
        x[:, vi[role["now"]]] = n
        self._struck = struck
        agreed = np.where(struck, 0.0, np.where(self.acc["ceasefire"], 1.0, x[:, vi[role["agreed"]]]))
        x[:, vi[role["agreed"]]] = agreed
        ws = x[:, vi[role["state"]]]
        new = np.where(struck, np.where((ws == 2) | (recent >= w("sustained_threshold")), 2.0, 1.0), ws)
        x[:, vi[role["state"]]] = new
        return np.where(struck, 0.0, x[:, vi[role["since"]]])

    def _ceasefire(self, since: np.ndarray) -> None:
        """At the end of the step: fighting has stopped once no direct strike came for long enough."""
        x, vi, w = self.x, self.vi, self.tables.params.world
        role = self.tables.roles["war"]
        x[:, vi[role["since"]]] = since
        ws = x[:, vi[role["state"]]]
        agreed = x[:, vi[role["agreed"]]]
        fighting = (ws == 1) | (ws == 2)
        calm = (
            ~self._struck
            & fighting
            & ((since >= w("ceasefire_days")) | ((agreed > 0) & (since >= w("agreed_ceasefire_days"))))
        )
        x[:, vi[role["state"]]] = np.where(calm, 3.0, ws)

    # ------------------------------------------------------------------ dynamics
    def _dynamics(self, step: int, span: np.ndarray, purpose: str) -> None:
        """Advance the state by ``span`` days (per replicate); every new value reads the same snapshot.

        A step runs its dynamics in two parts, up to the decision time and after it, with
        independent noise (``purpose``), so decisions read the state at the moment they are taken.
        """
        t, dt = self.tables, np.asarray(span, dtype=float)
        dyn, view = t.dynamics, t.view
        x0 = self.x.copy()
        new = self.x
        for i, hl in dyn.decay:
            new[:, i] = x0[:, i] * _decay(view[hl], dt)
        for i, target, rate in dyn.revert:
            theta = 1.0 - np.exp(-np.asarray(view[rate], dtype=float) * dt)
            new[:, i] = new[:, i] + theta * (expr.evaluate(target, self.lookup_snapshot(x0), view) - x0[:, i])
        for i, rate in dyn.rate:
            new[:, i] = new[:, i] + dt * np.asarray(expr.evaluate(rate, self.lookup_snapshot(x0), view), float)
        if dyn.noise:
            z = rng.normals(self.keys, step, purpose, len(dyn.noise))
            for j, (i, sd) in enumerate(dyn.noise):
                new[:, i] = new[:, i] + view[sd] * np.sqrt(dt) * z[:, j]
        for i, hl in dyn.upper_param:
            new[:, i] = np.minimum(new[:, i], view[hl])
        # relation variables drive their relation (e.g. cohesion, the patron-client relation)
        for i, a, b in dyn.relation:
            self.rel[:, a, b] = self.rel[:, b, a] = np.clip(new[:, i], -1.0, 1.0)
        w = t.params.world
        keep = [(a, b, self.rel[:, a, b].copy()) for _, a, b in dyn.relation]
        self.rel += _per_rep(1.0 - np.exp(-np.asarray(w("relation_reversion"), float) * dt)) * (self.rel0 - self.rel)
        for a, b, v in keep:  # relation variables have dynamics of their own
            self.rel[:, a, b] = self.rel[:, b, a] = v
        self.stance += _per_rep(1.0 - np.exp(-np.asarray(w("stance_reversion"), float) * dt)) * (
            self.stance0 - self.stance
        )
        self.griev *= _per_rep(_decay(w("grievance_half_life"), dt))

    def lookup_snapshot(self, x0: np.ndarray) -> Any:
        """A lookup that reads world variables from a snapshot (relations and stances as they stand)."""
        vi = self.vi

        def look(name: str) -> Any:
            if name in vi:
                return x0[:, vi[name]]
            return self.lookup(name)

        return look

    def _tier(self, when: np.ndarray, decisions: list[Decision]) -> None:
        """Record the day on which each support tier was last reached by the actions just taken."""
        t = self.tables
        for _, actor in t.dynamics.tier:
            for tab, d in zip(t.actor_tables, decisions, strict=False):
                if tab.index != actor or not tab.tier.any():
                    continue
                k = tab.tier[d.choice]
                hit = np.flatnonzero(k > 0)
                self.tier_day[hit, k[hit]] = when[hit]

    def _update_derived(self, day: np.ndarray) -> None:
        """Derived variables at ``day`` (per replicate): support tier window, relation variables, expressions."""
        t, x = self.tables, self.x
        day = np.broadcast_to(np.asarray(day, dtype=float), (self.R,))[:, None]
        for i, _ in t.dynamics.tier:
            window = np.asarray(t.params.world("tier_window_days"), dtype=float)
            live = (day - self.tier_day) < (window[:, None] if window.ndim else window)
            levels = np.arange(t.n_tiers)[None, :]
            x[:, i] = np.max(np.where(live, levels, 0), axis=1)
        rel_of = {i: (a, b) for i, a, b in t.dynamics.relation}
        for i, param in t.dynamics.upper_param:  # a bound given by a (possibly sampled) parameter
            if i in rel_of:
                a, b = rel_of[i]
                self.rel[:, a, b] = self.rel[:, b, a] = np.minimum(self.rel[:, a, b], t.view[param])
        for i, a, b in t.dynamics.relation:
            x[:, i] = self.rel[:, a, b]
        for i, node in t.dynamics.derived:
            x[:, i] = expr.evaluate(node, self.lookup, t.view)

    def run(self, steps: int | None = None) -> None:
        """Run the configured horizon (or ``steps`` more steps)."""
        n = self.config.steps if steps is None else steps
        if self.steps == 0:
            self._update_derived(np.zeros(self.R))
            self._reset_reporting()
            self._record(0)
        for _ in range(n):
            self.step()
