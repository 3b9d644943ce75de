"""The vectorised Mesa model. Entry point: ``simulate(config, replicates)``.

Example::

    from model.engine import Config, simulate
    from model.catalog import load_catalog

    result = simulate(Config(load_catalog(), steps=26, seed=1), replicates=1000)
    result.series[:, :, result.variables.index("brent")]   # (steps + 1, replicates)
    result.outcomes["max_support_tier"]                     # one value per replicate
    result.to_frame("outcomes")                              # a tidy pandas frame (if pandas is installed)

The engine knows nothing of YAML files, folders or plots.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from model.engine.config import (
    Change,
    Config,
    Event,
    Uncertainty,
    get_value,
    numeric_paths,
    samplable_paths,
    set_value,
)
from model.engine.mesa_compat import release
from model.engine.model import EntenteModel
from model.engine.outcomes import DEFAULT_OUTCOMES, OUTCOMES, compute
from model.errors import InputError

__all__ = [
    "Change",
    "Config",
    "Event",
    "Uncertainty",
    "Result",
    "EntenteModel",
    "simulate",
    "numeric_paths",
    "samplable_paths",
    "get_value",
    "set_value",
    "OUTCOMES",
    "DEFAULT_OUTCOMES",
]


@dataclass
class Result:
    """Trajectories and decision records of a batch of replicates."""

    replicates: np.ndarray  # (R,) replicate indices
    keys: np.ndarray  # (R,) uint64 replicate seeds
    variables: list[str]
    actors: list[str]
    units: list[str]  # decision units, "actor:track"
    unit_actor: list[int]  # the actor index of each unit
    options: list[list[tuple[str, str]]]  # per unit: (action, target) of each option (0 = hold)
    constraint_ids: list[str]
    step_days: float
    series: np.ndarray  # (T+1, R, V) world state after each step (0 = initial)
    choices: np.ndarray  # (T, R, U) chosen option per decision unit
    bound: np.ndarray  # (T, R, U) bitmask of constraints that bound
    forced: np.ndarray  # (T, R, U) the choice was imposed by an event
    sampled: dict[str, np.ndarray]  # path -> (R,) sampled parameter values
    events: list[str] = field(default_factory=list)  # event labels, in scenario order
    event_step: np.ndarray | None = None  # (E, R) step at which each event was applied, 0 = never
    event_deferred: np.ndarray | None = None  # (E, R) steps it waited for another event on its unit
    event_blocked: np.ndarray | None = None  # (E, R) steps a constraint blocked it
    extra_names: list[str] = field(default_factory=list)  # non-variable names scenario outcomes read
    extra: np.ndarray | None = None  # (T+1, R, len(extra_names))
    records: list[dict[str, Any]] = field(
        default_factory=list
    )  # detail mode: per moment {step, day, decisions (per unit)}
    outcomes: dict[str, np.ndarray] = field(default_factory=dict)
    event_day: np.ndarray | None = None  # (E, R) day at which each event was applied, NaN = never
    mark_days: np.ndarray | None = None  # (M,) days at which the state was also recorded (Config.marks)
    mark_series: np.ndarray | None = None  # (M, R, V) the state at each mark
    mark_extra: np.ndarray | None = None  # (M, R, len(extra_names))
    series_hi: np.ndarray | None = None  # (T+1, R, V) highest value within each step (its moments and its end)
    series_lo: np.ndarray | None = None  # (T+1, R, V) lowest value within each step
    series_mean: np.ndarray | None = None  # (T+1, R, V) time average over each step (row 0: the start)
    # the variables of the last axis of series_hi, series_lo and series_mean (None: all of ``variables``)
    extreme_names: list[str] | None = None

    def to_frame(self, what: str = "outcomes") -> Any:
        """Tidy pandas frames of the result (needs pandas).

        ``outcomes`` has one row per replicate with its sampled values; ``series`` one row per
        replicate and step, a column per variable.
        """
        import pandas as pd

        if what == "outcomes":
            cols = {"replicate": self.replicates, **self.outcomes}
            cols.update({f"sampled:{k}": v for k, v in self.sampled.items()})
            return pd.DataFrame(cols)
        if what == "series":
            T1, R, V = self.series.shape
            frame = pd.DataFrame(self.series.reshape(T1 * R, V), columns=self.variables)
            frame.insert(0, "day", np.repeat(np.arange(T1) * self.step_days, R))
            frame.insert(0, "step", np.repeat(np.arange(T1), R))
            frame.insert(0, "replicate", np.tile(self.replicates, T1))
            return frame
        raise ValueError("what must be 'outcomes' or 'series'")


MAX_IN_MEMORY = 1_000_000  # replicates simulate() holds at once; entente run streams larger ensembles to disk
MAX_INDEX = 2**62  # replicate indices are int64 inside the engine; no run reaches this one


def check_replicates(reps: Any, distinct: bool = True) -> None:
    """A positive count, or a non-empty list of distinct non-negative integer indices (InputError otherwise).

    Why here: ``simulate`` is public, and the execution layer and the CLI call this same check, so a
    count of 0, True, 2**40 or a list with repeats gets one sentence whichever door it comes in by
    (before, the engine ran 0 or -1 replicates and [1.5] as [1], and tried to allocate 8 TiB for 2**40).
    ``distinct=False`` lets an index repeat: the engine's own designs (sensitivity, calibration) run the
    same replicate under different parameter rows (common random numbers); a user's list may not.
    """
    where = "replicates"
    if isinstance(reps, bool):
        raise InputError.one(where, f"expected a count or a list of replicate indices, found {reps!r}")
    if isinstance(reps, int | np.integer):
        if not 1 <= int(reps) <= MAX_IN_MEMORY:
            raise InputError.one(
                where, f"a count must lie in 1..{MAX_IN_MEMORY:,} (entente run streams more), found {reps}"
            )
        return
    try:
        arr = np.asarray(reps)
    except (TypeError, ValueError):
        arr = np.asarray([], dtype=float)
    if (
        arr.ndim != 1
        or len(arr) == 0
        or len(arr) > MAX_IN_MEMORY
        or arr.dtype.kind not in "iu"
        or (arr < 0).any()
        or (arr > MAX_INDEX).any()
        or (distinct and len(np.unique(arr)) != len(arr))
    ):
        raise InputError.one(
            where,
            f"expected a count or a non-empty list of {'distinct ' if distinct else ''}replicate indices in 0..2^62, "
            f"found {reps!r:.60}",
        )


def simulate(
    config: Config,
    replicates: Sequence[int] | np.ndarray | int = 1,
    *,
    detail: bool = False,
    order: Sequence[int] | None = None,
    extremes: str = "all",
) -> Result:
    """Run a batch of replicates of ``config`` through the whole horizon.

    Args:
        config: what to simulate.
        replicates: replicate indices, or a count n for indices 0..n-1. A replicate's
            trajectory depends only on the configuration, the seed and its index.
        detail: keep full decision records (for explaining a few replicates).
        order: activation order of the decision units (results do not depend on it).
        extremes: "all" keeps every variable's within-step highs, lows and averages; "outcomes" only
            those the outcomes read (the same outcomes, in about a third of the memory: entente run).
    """
    check_replicates(replicates, distinct=False)
    m = EntenteModel(config, replicates, detail=detail, order=order, extremes=extremes)
    m.run()
    t = m.tables
    res = Result(
        replicates=m.replicates,
        keys=m.keys,
        variables=t.variables,
        actors=t.actors,
        units=t.units,
        unit_actor=[tab.index for tab in t.actor_tables],
        options=[tab.options for tab in t.actor_tables],
        constraint_ids=t.constraint_ids,
        step_days=m.dt,
        series=m.series,
        series_hi=m.series_hi,
        series_lo=m.series_lo,
        series_mean=m.series_mean,
        extreme_names=None if m._xcols is None else list(m.extreme_names),
        choices=m.choices,
        bound=m.bound,
        forced=m.forced,
        sampled={
            k: np.broadcast_to(np.asarray(v, float), (m.R,)).copy()
            for k, v in t.params.values.items()
            if not isinstance(v, bool)
        },
        events=[e["event"].label or f"{e['event'].actor} {e['event'].action} {e['event'].target}" for e in m._events],
        event_step=m.event_step,
        event_day=m.event_day,
        event_deferred=m.event_deferred,
        event_blocked=m.event_blocked,
        extra_names=m.extra_names,
        extra=m.extra,
        records=m.records,
        mark_days=m.mark_days,
        mark_series=m.mark_series,
        mark_extra=m.mark_extra,
    )
    release(m)  # Mesa 3.3 keeps every model in a class-level registry: give its memory back now
    res.outcomes = compute(res, config.outcome_defs, config.spec)
    return res
