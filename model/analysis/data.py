"""Read run folders. Analysis reads these files only; it never imports the simulation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np


def manifest(folder: str | Path) -> dict[str, Any]:
    return json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))


def _parts(folder: Path, table: str) -> list[Path]:
    return sorted((folder / table).glob("part-*.parquet"))


def read_outcomes(folder: str | Path) -> dict[str, np.ndarray]:
    """The per-replicate outcome table (from the chunk files), sorted by replicate."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = Path(folder)
    parts = _parts(folder, "outcomes")
    if not parts:
        raise FileNotFoundError(f"{folder} holds no outcome data")
    table = pa.concat_tables([pq.read_table(p) for p in parts])
    order = np.argsort(table.column("replicate").to_numpy(), kind="stable")
    return {name: table.column(name).to_numpy()[order] for name in table.column_names}


def _read_matrices(folder: Path, table: str, columns: list[str]) -> dict[str, np.ndarray]:
    """Columns of a step-major chunked table as (steps, replicates) arrays, replicates in index order."""
    import pyarrow.parquet as pq

    out: dict[str, list[np.ndarray]] = {c: [] for c in columns}
    reps: list[np.ndarray] = []
    for p in _parts(folder, table):
        t = pq.read_table(p, columns=["replicate", "step", *columns])
        steps = t.column("step").to_numpy()
        n_steps = len(np.unique(steps))
        n = len(steps) // n_steps
        reps.append(t.column("replicate").to_numpy()[:n])
        for c in columns:
            out[c].append(t.column(c).to_numpy().reshape(n_steps, n))
    order = np.argsort(np.concatenate(reps), kind="stable")
    return {c: np.concatenate(out[c], axis=1)[:, order] for c in columns}


def read_series(folder: str | Path, variables: list[str]) -> dict[str, np.ndarray]:
    """Chosen time series as (steps + 1, replicates) arrays (row 0 = initial state)."""
    return _read_matrices(Path(folder), "timeseries", variables)


def read_decisions(folder: str | Path, columns: list[str]) -> dict[str, np.ndarray]:
    """Decision columns (e.g. 'russia.bound') as (steps, replicates) arrays (row 0 = step 1)."""
    return _read_matrices(Path(folder), "decisions", columns)


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    p = Path(path)
    if not p.exists():
        return []
    return [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
