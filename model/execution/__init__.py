"""Run a scenario into a run folder, and rebuild a run's scenario from its manifest.

This layer validates the run's settings, creates and locks the folder, simulates its chunks
and stops cleanly. The manifest records the resolved scenario (after ``extends``, levers and command-line
options), so ``entente rerun`` and ``entente run --resume`` rebuild exactly the same
configuration without the original files. What happens after the chunks (decision traces,
analysis, sealing the folder) is composed above this layer, in ``model.workflow``.

The code lives in modules named by what they do; this package only hands their names on:

- ``options``: how to run (``RunOptions``) and the one check of those settings;
- ``variants``: the scenario with run values, settings or policy replaced, compiled again;
- ``host``: the machine a run is made on, and how another differs;
- ``manifest``: a run's manifest, and the scenario rebuilt from it;
- ``lifecycle``: a run in its partial folder, from start to a clean stop;
- ``inmemory``: ``simulate``, the Python API's in-memory run;
- ``runner``, ``store``: chunks on worker processes; run folders on disk;
- ``check``: ``entente check``, the history bands (imported by its users, not here).
"""

from __future__ import annotations

from model.execution import runner, store
from model.execution.host import machine, machine_differences, warn_if_other_machine
from model.execution.inmemory import MAX_IN_MEMORY, simulate
from model.execution.lifecycle import (
    Plan,
    RunStopped,
    drop_incomplete,
    now,
    open_partial,
    redo_broken_chunks,
    simulate_chunks,
    start,
    state,
    stopping_cleanly,
    tidy,
)
from model.execution.manifest import (
    build_manifest,
    catalog_hash,
    check_recorded_options,
    dictionary,
    scenario_digest,
    scenario_from_manifest,
)
from model.execution.options import COMMAND_LINE, MAX_WORKERS, RunOptions, check_options, option_issues
from model.execution.variants import OPTION_OF, SEED_LIMIT, apply_overrides, with_policy, with_settings

__all__ = [
    "COMMAND_LINE",
    "MAX_IN_MEMORY",
    "MAX_WORKERS",
    "OPTION_OF",
    "SEED_LIMIT",
    "Plan",
    "RunOptions",
    "RunStopped",
    "apply_overrides",
    "build_manifest",
    "catalog_hash",
    "check_options",
    "check_recorded_options",
    "dictionary",
    "drop_incomplete",
    "machine",
    "machine_differences",
    "now",
    "open_partial",
    "option_issues",
    "redo_broken_chunks",
    "runner",
    "scenario_digest",
    "scenario_from_manifest",
    "simulate",
    "simulate_chunks",
    "start",
    "state",
    "stopping_cleanly",
    "store",
    "tidy",
    "warn_if_other_machine",
    "with_policy",
    "with_settings",
]
