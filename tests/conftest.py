"""Shared helpers: small configurations built straight from the catalog; one worker per shared fixture."""

from __future__ import annotations

from typing import Any

import pytest

from model.catalog import load_catalog
from model.engine import Config, Event, set_value


def make_config(steps: int = 4, seed: int = 7, events: list[Event] | None = None, **paths: Any) -> Config:
    """A Config from the shipped catalog with parameter paths overridden (``__`` stands for ``.``)."""
    spec = load_catalog()
    fixed = []
    for key, value in paths.items():
        path = key.replace("__", ".")
        set_value(spec, path, value)
        fixed.append(path)
    spec["_fixed"] = fixed
    return Config(spec=spec, steps=steps, seed=seed, events=list(events or []))


@pytest.fixture
def config_factory():
    return make_config


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep the tests that share a module-scoped fixture of the suite on one xdist worker.

    Why: such a fixture (a run folder, an app ensemble) is built once per worker process that
    needs it, and a complete run costs about 5 s of CPU. With ``--dist loadgroup`` (pyproject's
    addopts) each group goes to one worker, so it is built once; other tests spread as before.
    """
    for item in items:
        if item.get_closest_marker("xdist_group"):
            continue
        info = getattr(item, "_fixtureinfo", None)
        for name in getattr(info, "names_closure", []):
            defs = info.name2fixturedefs.get(name) or ()
            if defs and defs[-1].scope == "module" and defs[-1].baseid:  # the suite's own, not a plugin's
                item.add_marker(pytest.mark.xdist_group(f"{defs[-1].baseid}::{name}"))
                break
