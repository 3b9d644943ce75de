"""The actors: Mesa agents whose state is one value per replicate.

Each ``ActorAgent`` decides for every replicate of the batch at once. Its utility for an
option is the change in its interests that the option is predicted to cause, plus the pull
of its stances, plus its urge to answer grievances against the option's target, minus the
penalties of cost constraints. Forbid, gate and cap constraints remove options. The choice is
a logit rule drawn with the Gumbel-max trick from replicate-keyed noise, so a replicate
chooses the same way whatever batch it is in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

from model import expr
from model.engine.tables import ActorTable

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


class ActorAgent(mesa.Agent):
    """An actor of the articles; its stance, grievances and relations are per-replicate views."""

    def __init__(self, model: EntenteModel, table: ActorTable) -> None:
        super().__init__(model)
        self.name = table.name
        self.table = table
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
        self._static_linear = {f for f, col in table.feature_cols if not isinstance(table.linear.get(f), np.ndarray) and np.ndim(col) == 1}

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
            G = self.grievance[:, self._target] * self._has_target
            U += _col(rw) * G * tab.resp
        return U

    def decide(
        self, step: int, noise: np.ndarray, forced: np.ndarray, tremble_u: np.ndarray, pick_u: np.ndarray, detail: bool = False
    ) -> Decision:
        """Choose an option per replicate; record which constraints bound."""
        m, tab = self.model, self.table
        R, K = m.R, len(tab.options)
        U_free = self.utilities()
        U = U_free.copy()
        infeasible = np.zeros((R, K), dtype=bool)
        hits: list[tuple[int, np.ndarray]] = []
        for ct in tab.constraints:
            active = np.logical_not(ct.lifted)
            if not np.any(active):
                continue
            active = np.broadcast_to(active, (R,))[:, None]
            if ct.kind == "forbid":
                hit = np.broadcast_to(ct.affects, (R, K)) & active
                infeasible |= hit
            elif ct.kind == "gate":
                ok = np.broadcast_to(expr.truth(expr.evaluate(ct.condition, m.lookup, ct.params)), (R,))
                hit = (~ok)[:, None] & ct.affects & active
                infeasible |= hit
            elif ct.kind == "cap":
                hit = (m.x[:, ct.stock, None] < ct.cost - 1e-12) & ct.affects & active
                infeasible |= hit
            else:  # cost
                pen = np.broadcast_to(np.asarray(expr.evaluate(ct.penalty, m.lookup, ct.params), float), (R,))
                if ct.condition is not None:
                    cond = np.broadcast_to(expr.truth(expr.evaluate(ct.condition, m.lookup, ct.params)), (R,))
                    pen = np.where(cond, pen, 0.0)
                charge = pen[:, None] * ct.factor * active
                U -= charge
                hit = charge > 0
            hits.append((ct.index, hit))
        feasible = ~infeasible
        U_con = np.where(feasible, U, -np.inf)
        inv_t = 1.0 / _col(m.tables.params.world("temperature"))
        choice = np.argmax(U_con * inv_t + noise, axis=1)
        free = np.argmax(U_free * inv_t + noise, axis=1)

        trembled = tremble_u < m.tables.params.world("tremble")
        rows_t = np.flatnonzero(trembled)
        if len(rows_t):
            feas_t = feasible[rows_t]
            n_feas = feas_t.sum(axis=1)
            nth = np.minimum((pick_u[rows_t] * n_feas).astype(np.int64), n_feas - 1)
            choice[rows_t] = np.argmax(np.cumsum(feas_t, axis=1) > nth[:, None], axis=1)

        rows = np.arange(R)
        has_event = forced >= 0
        forced_ok = has_event & feasible[rows, np.where(has_event, forced, 0)]
        choice = np.where(forced_ok, forced, choice)
        blocked = has_event & ~forced_ok

        bound = np.zeros(R, dtype=np.int64)
        differs = (free != choice) & ~trembled & ~has_event
        for ci, hit in hits:
            on_free = hit[rows, free] & differs
            on_event = blocked & hit[rows, np.where(has_event, forced, 0)]
            bound |= (on_free | on_event).astype(np.int64) << ci
        info = None
        if detail:
            info = {
                "utility": U_con.copy(),
                "utility_free": U_free,
                "feasible": feasible,
                "free": free,
                "hits": {ci: hit.copy() for ci, hit in hits},
                "event_blocked": blocked,
            }
        return Decision(choice=choice, bound=bound, forced=forced_ok, trembled=trembled, detail=info)
