"""Shared helpers: small configurations built straight from the catalog."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from model.catalog import load_catalog
from model.engine import Config, Event, set_value


def make_config(
    steps: int = 4, seed: int = 7, events: list[Event] | None = None, spec: dict | None = None, **paths: Any
) -> Config:
    """A Config from the shipped catalog (or a copy of ``spec``) with parameter paths overridden (``__`` is ``.``)."""
    spec = copy.deepcopy(spec) if spec is not None else load_catalog()
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
