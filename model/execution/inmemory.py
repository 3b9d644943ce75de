"""Simulate a scenario in memory, without a run folder: the Python API's door to the engine.

Overrides are validated like a scenario file's settings, and replicate counts like the
command line's, so a notebook gets the same errors as ``entente run``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from model import engine
from model.errors import InputError
from model.execution.variants import with_settings
from model.scenario import Scenario
from model.scenario.settings import check_settings, load_with_settings

# One validation of replicate counts for the API and the CLI: the engine's (model.engine.check_replicates)
MAX_IN_MEMORY = engine.MAX_IN_MEMORY
_check_replicates = engine.check_replicates


def simulate(
    scenario: Scenario | str | Path | Any,
    replicates: int | list[int] | np.ndarray | None = None,
    *,
    overrides: dict[str, Any] | None = None,
    detail: bool = False,
) -> Any:
    """Simulate a scenario in memory (no run folder), with optional overrides; return the engine's Result.

    Args:
        scenario: a Scenario (``model.scenario.load_scenario``), a scenario file's path, or an
            engine ``Config`` (then without overrides).
        replicates: a count n (replicates 0..n-1) or a list of replicate indices; default the
            scenario's own count. Replicate r is the same draw whatever else is simulated with it.
        overrides: ``{lever: option}`` or ``{path: value}``, the syntax of ``entente run --set``
            (``{"us_restraint": "firm", "world.temperature": 0.1}``), validated like the file;
            errors name the override (InputError).
        detail: keep every decision's utilities (for a few replicates).

    Example::

        from model.execution import simulate
        res = simulate("scenarios/us_restrains_israel.yaml", 500, overrides={"us_restraint": "none"})
        res.to_frame("outcomes").mean(numeric_only=True)
    """
    check_settings(overrides, "overrides")
    if isinstance(scenario, engine.Config):
        if overrides:
            raise InputError.one(
                "overrides",
                "overrides need the scenario, not its Config (levers and validation live in the scenario): "
                "pass load_scenario(path) or the path itself",
            )
        config, default = scenario, 1
    else:
        if isinstance(scenario, str | Path):
            sc = load_with_settings(scenario, overrides, "overrides")
        elif isinstance(scenario, Scenario):
            sc = with_settings(scenario, overrides, "overrides")
        else:
            raise InputError.one(
                "scenario", f"simulate() takes a Scenario, a path or a Config, not {type(scenario).__name__}"
            )
        config, default = sc.config, sc.replicates
    reps = default if replicates is None else replicates
    _check_replicates(reps)
    return engine.simulate(config, reps, detail=detail)
