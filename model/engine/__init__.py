"""The vectorised Mesa model. Entry point: ``simulate(config, replicates)``.

Example::

    from model.engine import Config, simulate
    from model.catalog import load_catalog

    result = simulate(Config(load_catalog(), steps=26, seed=1), replicates=1000)
    result.series[:, :, result.variables.index("brent")]   # (steps + 1, replicates)
    result.outcomes["max_support_tier"]                     # one value per replicate

The engine knows nothing of YAML files, folders or plots.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from model.engine.config import Config, Event, Uncertainty, get_value, numeric_paths, set_value
from model.engine.model import FLAGS, EntenteModel
from model.engine.outcomes import OUTCOMES, compute

__all__ = [
    "Config",
    "Event",
    "Uncertainty",
    "Result",
    "EntenteModel",
    "simulate",
    "numeric_paths",
    "get_value",
    "set_value",
    "OUTCOMES",
    "FLAGS",
]


@dataclass
class Result:
    """Trajectories and decision records of a batch of replicates."""

    replicates: np.ndarray  # (R,) replicate indices
    keys: np.ndarray  # (R,) uint64 replicate seeds
    variables: list[str]
    actors: list[str]
    options: list[list[tuple[str, str]]]  # per actor: (action, target) of each option
    constraint_ids: list[str]
    step_days: float
    series: np.ndarray  # (T+1, R, V) world state after each step (0 = initial)
    choices: np.ndarray  # (T, R, A) chosen option per actor
    bound: np.ndarray  # (T, R, A) bitmask of constraints that bound
    forced: np.ndarray  # (T, R, A) the choice was imposed by an event
    flags: dict[str, np.ndarray]  # (T, R) per-step event flags
    sampled: dict[str, np.ndarray]  # path -> (R,) sampled parameter values
    records: list[list[Any]] = field(default_factory=list)  # detail mode: per step, per actor Decision
    outcomes: dict[str, np.ndarray] = field(default_factory=dict)


def simulate(config: Config, replicates: Sequence[int] | np.ndarray | int = 1, *, detail: bool = False) -> Result:
    """Run a batch of replicates of ``config`` through the whole horizon.

    Args:
        config: what to simulate.
        replicates: replicate indices, or a count n for indices 0..n-1. A replicate's
            trajectory depends only on the configuration, the seed and its index.
        detail: keep full decision records (for explaining a few replicates).
    """
    m = EntenteModel(config, replicates, detail=detail)
    m.run()
    t = m.tables
    res = Result(
        replicates=m.replicates,
        keys=m.keys,
        variables=t.variables,
        actors=t.actors,
        options=[tab.options for tab in t.actor_tables],
        constraint_ids=t.constraint_ids,
        step_days=m.dt,
        series=m.series,
        choices=m.choices,
        bound=m.bound,
        forced=m.forced,
        flags=m.flags,
        sampled={
            k: np.broadcast_to(np.asarray(v, float), (m.R,)).copy()
            for k, v in t.params.values.items()
            if not isinstance(v, bool)
        },
        records=m.records,
    )
    res.outcomes = compute(res)
    return res
