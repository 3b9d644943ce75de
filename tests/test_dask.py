"""A small ensemble on a local Dask cluster gives results identical to a local run."""

from __future__ import annotations

import numpy as np
import pytest

from model.analysis import data
from model.execution import runner
from model.scenario import load_scenario, scenarios_dir

distributed = pytest.importorskip("distributed")


def test_dask_local_cluster_matches_local_processes(tmp_path):
    sc = load_scenario(scenarios_dir() / "baseline.yaml").with_run_options(steps=6)
    chunks = runner.plan_chunks(0, 400, 100)
    local, dask = tmp_path / "local", tmp_path / "dask"
    local.mkdir()
    dask.mkdir()
    runner.execute(sc.config, chunks, local, workers=1)
    runner.execute(sc.config, chunks, dask, workers=2, executor="dask-local")
    a, b = data.read_outcomes(local), data.read_outcomes(dask)
    for k in a:
        assert np.array_equal(a[k], b[k], equal_nan=True), k
    sa = data.read_series(local, ["escalation", "brent"])
    sb = data.read_series(dask, ["escalation", "brent"])
    assert all(np.array_equal(sa[k], sb[k]) for k in sa)
