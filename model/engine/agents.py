"""Decision units: Mesa agents, one per actor and track, whose state is one value per replicate.

Each ``ActorAgent`` is one actor deciding on one track (diplomacy, supply, force) for every
replicate of the batch at once. A unit decides when one of its cycle points (every
``1 / rate`` days, with its own phase) falls in the step; otherwise it holds. Its utility for an option is the
change in its actor's interests that the option is predicted to cause, plus the pull of the
actor's stances, plus its urge to answer grievances against the option's target, minus the
penalties of cost constraints. Forbid, gate and cap constraints remove options. The choice is
a logit rule drawn with the Gumbel-max trick from replicate-keyed noise, so a replicate
chooses the same way whatever batch it is in.

Mesa's staged activation: the model calls ``agents.do("decide")`` (every unit reads the same
state at the step's action time) and then ``agents.do("act")`` (every unit adds its chosen option's
effects to the step's accumulators, which are sums or maxima, so the order cannot matter).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

from model import expr
from model.engine.tables import UnitTable

if TYPE_CHECKING:
    from model.engine.model import EntenteModel


def _col(v: Any) -> Any:
    """A per-replicate (R,) value as a column for (R, K) arithmetic; scalars pass through."""
    return v[:, None] if isinstance(v, np.ndarray) and v.ndim == 1 else v


@dataclass
class Decision:
    """One actor's decision in one step, for every replicate of the batch."""

    choice: np.ndarray  # (R,) chosen option
    bound: np.ndarray  # (R,) int64 bitmask of constraints that bound (by global constraint index)
    forced: np.ndarray  # (R,) bool: an event imposed the choice
    trembled: np.ndarray  # (R,) bool: a random (non-rational) deviation
    detail: dict[str, Any] | None = None
    idle: np.ndarray | None = None  # (R,) bool: no decision opportunity this step (the unit held)


class ActorAgent(mesa.Agent):
    """An actor of the articles; its stance, grievances and relations are per-replicate views."""

    def __init__(self, model: EntenteModel, table: UnitTable) -> None:
        super().__init__(model)
        self.name = table.name
        self.table = table
        self.decision: Decision | None = None
        i = table.index
        self.stance = model.stance[:, i, :]
        self.grievance = model.griev[:, :, i]  # (R, A): this actor's grievance against each other actor
        self.relations = model.rel[:, i, :]
        self._peaks: dict[int, list[tuple[Any, Any, Any]]] = {}
        for f, w, t, s in table.peaks:
            self._peaks.setdefault(f, []).append((w, t, s))
        self._hinges: dict[int, list[tuple[Any, Any]]] = {}
        for f, w, h in table.hinges:
            self._hinges.setdefault(f, []).append((w, h))
        self._target = np.where(table.target >= 0, table.target, 0)
        self._has_target = table.target >= 0
        # Linear interests with constant weights and constant deltas do not depend on the state:
        # fold them, with the effort, into one static utility vector computed once.
        self._static = -table.effort.astype(float)
        self._dynamic: list[tuple[int, Any]] = []
        for f, col in table.feature_cols:
            lin = table.linear.get(f)
            if lin is not None and not isinstance(lin, np.ndarray) and np.ndim(col) == 1:
                self._static = self._static + lin * col
                if f in self._peaks or f in self._hinges:
                    self._dynamic.append((f, col))
            else:
                self._dynamic.append((f, col))
        self._static_linear = {
            f for f, col in table.feature_cols if not isinstance(table.linear.get(f), np.ndarray) and np.ndim(col) == 1
        }

    def feature(self, f: int) -> np.ndarray:
        """Current value of feature f: a world variable, or this actor's relation with another."""
        V = self.model.V
        return self.model.x[:, f] if f < V else self.relations[:, f - V]

    def _interest_change(self, U: np.ndarray, f: int, d: Any, skip_linear: bool = False) -> None:
        """Add the change in every interest on feature f caused by delta d (K,) or (R, K)."""
        lin = self.table.linear.get(f)
        if lin is not None and not skip_linear:
            U += _col(lin) * d
        for w, t, s in self._peaks.get(f, ()):
            xv = self.feature(f)[:, None]
            U -= _col(w) / _col(s) ** 2 * (2.0 * (xv - _col(t)) * d + d * d)
        for w, h in self._hinges.get(f, ()):
            xv = self.feature(f)[:, None]
            U -= _col(w) * (np.maximum(xv + d - _col(h), 0.0) - np.maximum(xv - _col(h), 0.0))

    def utilities(self) -> np.ndarray:
        """Unconstrained utility of every option, shape (R, K)."""
        m, tab = self.model, self.table
        U = np.empty((m.R, len(tab.options)))
        U[:] = self._static
        for f, col in self._dynamic:
            self._interest_change(U, f, col, skip_linear=f in self._static_linear)
        for f, mask, val in tab.set_cols:
            d = np.where(mask, val - self.feature(f)[:, None], 0.0)
            self._interest_change(U, f, d)
        sw = _col(m.tables.params.world("stance_weight"))
        for s in range(tab.align.shape[1]):
            if np.any(tab.align[:, s]):
                U += sw * self.stance[:, s, None] * tab.align[:, s]
        if np.any(tab.resp):
            rw = tab.response_weight
            if tab.damped_by >= 0:
                rw = rw * (1.0 - m.x[:, tab.damped_by])
            # answer in proportion: an option answers at most its own weight of the grievance (its
            # severity, or `answers` for words that carry more than they hurt)
            G = np.minimum(self.grievance[:, self._target], tab.answers) * self._has_target
            U += _col(rw) * G * tab.resp
        return U

    def _constraint_state(self) -> list[tuple[Any, np.ndarray]]:
        """Each active constraint's per-replicate state this step: blocked (R,) or penalty (R,)."""
        m = self.model
        out = []
        for ct in self.table.constraints:
            active = np.broadcast_to(np.logical_not(ct.lifted), (m.R,))
            if not active.any():
                continue
            if ct.kind in ("forbid", "cap"):
                vec = active
            elif ct.kind == "gate":
                ok = np.broadcast_to(expr.truth(expr.evaluate(ct.condition, m.lookup, ct.params)), (m.R,))
                vec = active & ~ok
            else:
                # costs only ever lower utilities: the fast path in ``decide`` relies on it
                pen = np.maximum(np.asarray(expr.evaluate(ct.penalty, m.lookup, ct.params), float), 0.0)
                pen = np.broadcast_to(pen, (m.R,))
                if ct.condition is not None:
                    cond = np.broadcast_to(expr.truth(expr.evaluate(ct.condition, m.lookup, ct.params)), (m.R,))
                    pen = np.where(cond, pen, 0.0)
                vec = np.where(active, pen, 0.0)
            out.append((ct, vec))
        return out

    def _hit(self, ct: Any, vec: np.ndarray, rows: np.ndarray, opts: np.ndarray) -> np.ndarray:
        """Where the constraint removes or penalises options ``opts`` in replicates ``rows`` (broadcast)."""
        if ct.kind == "cost":
            return (vec[rows] * ct.factor[opts]) > 0
        hit = vec[rows] & ct.affects[opts]
        if ct.kind == "cap":
            hit &= self.model.x[rows, ct.stock] < ct.cost[opts] - 1e-12
        return hit

    def decide(self) -> None:
        """Mesa stage 1: choose this step's option in every replicate (reads the state at the action time)."""
        m, u, off = self.model, self.table.unit, self.model.tables.option_offset[self.table.unit]
        K = len(self.table.options)
        self.decision = self.choose(
            m._noise[:, off : off + K],
            m._forced[:, u],
            m._tremble_u[:, u],
            m._pick_u[:, u],
            m._opportunity[:, u],
            m.detail,
        )

    def act(self) -> None:
        """Mesa stage 2: add the chosen option's effects to the step's accumulators."""
        self.model.accumulate(self.table, self.decision)

    def choose(
        self,
        noise: np.ndarray,
        forced: np.ndarray,
        tremble_u: np.ndarray,
        pick_u: np.ndarray,
        opportunity: np.ndarray,
        detail: bool = False,
    ) -> Decision:
        """Choose an option per replicate; record which constraints bound.

        Constraints only remove options or lower utilities, so wherever no constraint touches
        the unconstrained best option, that option is also the constrained choice; the full
        constrained computation runs only on the other replicates (and on those with a
        tremble or an event, which need the feasibility of every option).
        """
        m, tab = self.model, self.table
        R, K = m.R, len(tab.options)
        policy = m.config.policy
        if policy == "inert":  # nobody decides; events still force their options
            opportunity = np.zeros_like(opportunity)
        if not detail and not opportunity.any() and not (forced >= 0).any():
            # no cycle point and no event in any replicate (most steps of a fine step): everyone holds
            none = np.zeros(R, dtype=bool)
            return Decision(
                choice=np.zeros(R, dtype=np.int64),
                bound=np.zeros(R, dtype=np.int64),
                forced=none,
                trembled=none,
                idle=~none,
            )
        if policy == "hawk":  # the most escalatory feasible option, whatever the utilities
            U_free = np.broadcast_to(tab.rung * 1.0 - np.arange(K) * 1e-6, (R, K)).copy()
            noise = np.zeros_like(noise)
        else:
            U_free = self.utilities()
        if tab.unchoosable.any():  # event-only actions and actions aimed at actors who left
            U_free[:, tab.unchoosable] = -np.inf
        inv_t = 1.0 / _col(m.tables.params.world("temperature"))
        scores = U_free * inv_t + noise
        # no decision opportunity this step: the unit holds (option 0), unless an event forces it
        idle = ~opportunity
        scores[idle, 1:] = -np.inf
        free = np.argmax(scores, axis=1)
        cons = self._constraint_state()
        every = np.arange(R)
        trembled = (tremble_u < m.tables.params.world("tremble")) & ~idle & (policy == "model")
        has_event = forced >= 0
        if detail:
            need = every
        else:
            touched = trembled | has_event
            for ct, vec in cons:
                touched |= self._hit(ct, vec, every, free)
            need = np.flatnonzero(touched)
        choice = free.copy()
        bound = np.zeros(R, dtype=np.int64)
        forced_ok = np.zeros(R, dtype=bool)
        blocked = np.zeros(R, dtype=bool)
        info = None
        if len(need):
            n = len(need)
            sub = scores[need]
            infeasible = np.zeros((n, K), dtype=bool)
            charges = np.zeros((n, K))
            hits: list[tuple[int, np.ndarray]] = []
            cols = np.arange(K)[None, :]
            for ct, vec in cons:
                h = self._hit(ct, vec, need[:, None], cols)
                if ct.kind == "cost":
                    charges += vec[need][:, None] * ct.factor
                else:
                    infeasible |= h
                hits.append((ct.index, h))
            it = inv_t[need] if isinstance(inv_t, np.ndarray) else inv_t
            if policy != "hawk":  # the hawk ignores costs; only forbids, gates and caps stop it
                sub -= charges * it
            infeasible |= tab.unavailable[None, :]  # nothing can be done to an actor who left
            sub[infeasible | tab.event_only[None, :]] = -np.inf
            c = np.argmax(sub, axis=1)
            feasible = ~infeasible  # an event may take an event-only action
            chooseable = feasible & ~tab.event_only[None, :]
            t_rows = np.flatnonzero(trembled[need])
            if len(t_rows):
                cap = np.asarray(m.tables.params.world("tremble_max_rung"), dtype=float)
                cap = cap[need][t_rows][:, None] if cap.ndim else cap
                feas_t = chooseable[t_rows] & (tab.rung[None, :] <= cap)
                feas_t[:, 0] |= ~feas_t.any(axis=1)
                n_feas = feas_t.sum(axis=1)
                nth = np.minimum((pick_u[need][t_rows] * n_feas).astype(np.int64), n_feas - 1)
                c[t_rows] = np.argmax(np.cumsum(feas_t, axis=1) > nth[:, None], axis=1)
            ev = has_event[need]
            fidx = np.where(ev, forced[need], 0)
            ok = ev & feasible[np.arange(n), fidx]
            c = np.where(ok, fidx, c)
            choice[need] = c
            forced_ok[need] = ok
            blocked[need] = ev & ~ok
            differs = (free[need] != c) & ~trembled[need] & ~ev
            rn = np.arange(n)
            for ci, h in hits:
                on = (h[rn, free[need]] & differs) | (blocked[need] & h[rn, fidx])
                bound[need] |= on.astype(np.int64) << ci
            if detail:
                info = {
                    "utility": np.where(feasible, U_free - charges, -np.inf),
                    "utility_free": U_free,
                    "feasible": feasible,
                    "free": free,
                    "hits": dict(hits),
                    "event_blocked": blocked,
                }
        return Decision(
            choice=choice, bound=bound, forced=forced_ok, trembled=trembled, detail=info, idle=idle & ~forced_ok
        )
