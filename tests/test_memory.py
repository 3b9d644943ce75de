"""Memory is given back: a finished simulation leaves nothing alive (issue 21, section 2).

Mesa 3.3's ``Agent._ids`` registry kept every model ever built, and every Mesa 3.x model sits in
reference cycles; ``model.engine.mesa_compat.release`` undoes both when ``simulate`` returns.
"""

from __future__ import annotations

import dataclasses
import gc
import os
import weakref

import mesa
import pytest

import model.engine as engine
from model.engine import mesa_compat
from model.scenario import load_scenario, scenarios_dir


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.fixture(scope="module")
def config():
    return load_scenario(scenarios_dir() / "baseline.yaml").config


def test_no_model_is_reachable_after_simulate_returns(config, monkeypatch):
    made: list[weakref.ref] = []

    class Watched(engine.EntenteModel):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(weakref.ref(self))

    monkeypatch.setattr(engine, "EntenteModel", Watched)
    was = gc.isenabled()
    gc.disable()  # freed by reference counting, at once, not at the cyclic collector's next pass
    try:
        res = engine.simulate(config, 20)
        assert res.series.shape[1] == 20 and made
        assert made[0]() is None, "the model outlived simulate() (a registry or a reference cycle holds it)"
    finally:
        if was:
            gc.enable()
    gc.collect()
    assert all(ref() is None for ref in made)
    assert not any(isinstance(o, engine.EntenteModel) for o in gc.get_objects())


def test_release_is_harmless_where_mesa_has_no_registry():
    class M(mesa.Model):
        def __init__(self):
            super().__init__(rng=1)
            self.payload = bytearray(10)

    class A(mesa.Agent):
        pass

    m = M()
    A(m)
    ref = weakref.ref(m)
    mesa_compat.release(m)
    mesa_compat.release(m)  # twice: nothing left to release
    assert all(m not in reg for reg in mesa_compat._id_registries(m))
    del m
    assert ref() is None


@pytest.mark.slow
def test_twenty_simulations_keep_resident_memory_flat(config):
    """A model of 1,000 replicates over 4 steps holds about 14 MB; 20 leaked ones would add 280 MB.

    Few steps and many replicates: a step costs Python time, a replicate mostly memory.
    """
    short = dataclasses.replace(config, steps=4)
    res = engine.simulate(short, 1000)  # warm-up: imports, caches, the allocator's arenas
    del res
    first = _rss_mb()
    for _ in range(20):
        res = engine.simulate(short, 1000)
        del res
    assert _rss_mb() <= first * 1.10, f"resident memory grew from {first:.0f} MB to {_rss_mb():.0f} MB"
