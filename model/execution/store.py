"""Run folders: the on-disk format that joins running and analysis.

Layout (runs/README.md documents every file and column)::

    runs/<scenario>/<UTC timestamp>-<hash>/
        manifest.json        what was run, how to reproduce it, the data dictionary
        outcomes.csv         one row per replicate: seed, sampled values, outcomes
        timeseries/part-*.parquet   every recorded variable, every step, every replicate
        decisions/part-*.parquet    each actor's chosen option and binding constraints per step
        constraints.csv      the constraint audit (how often each constraint bound, and when)
        decisions.jsonl      full decision records of a few traced replicates
        narrative.md, summary.md, plots/

A run is written into ``.<name>.partial`` beside its destination and renamed into place only
when complete, so a folder without that prefix is always complete. Chunks are written
atomically (temporary file, then rename), so an interrupted run keeps every finished chunk.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

PARTIAL_PREFIX = "."
PARTIAL_SUFFIX = ".partial"


def utc_stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def git_commit() -> str | None:
    """The checkout's commit, when entente runs from a git checkout."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)  # noqa: S603
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def safe_component(name: str) -> str:
    """A folder-name component that cannot climb out of its parent."""
    cleaned = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)[:80]
    return cleaned.strip("._") or "unnamed"


def new_run_folder(out: Path, scenario: str, digest: str) -> tuple[Path, Path]:
    """Create the partial folder for a new run; return (partial, final) paths.

    Never reuses a folder: the name carries a timestamp, the scenario hash and random
    bytes, and creation fails rather than overwrite.
    """
    parent = out / safe_component(scenario)
    parent.mkdir(parents=True, exist_ok=True)
    if not os.access(parent, os.W_OK):
        raise PermissionError(f"cannot write to {parent}")
    for _ in range(5):
        name = f"{utc_stamp()}-{digest[:7]}{secrets.token_hex(2)}"
        final = parent / name
        partial = parent / f"{PARTIAL_PREFIX}{name}{PARTIAL_SUFFIX}"
        if not final.exists() and not partial.exists():
            partial.mkdir()
            return partial, final
    raise FileExistsError(f"could not find a free run folder name under {parent}")


def final_path(partial: Path) -> Path:
    name = partial.name
    if name.startswith(PARTIAL_PREFIX) and name.endswith(PARTIAL_SUFFIX):
        name = name[len(PARTIAL_PREFIX) : -len(PARTIAL_SUFFIX)]
    return partial.parent / name


def is_partial(folder: Path) -> bool:
    return folder.name.startswith(PARTIAL_PREFIX) and folder.name.endswith(PARTIAL_SUFFIX)


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (temporary file in the same folder, then rename)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=False, default=_jsonable) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, set | frozenset):
        return sorted(obj)
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def read_manifest(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def chunk_name(start: int, stop: int) -> str:
    return f"part-{start:09d}-{stop:09d}.parquet"


def finished_chunks(folder: Path) -> set[tuple[int, int]]:
    """Chunks whose three tables are all on disk."""
    done = set()
    ts = folder / "timeseries"
    if not ts.exists():
        return done
    for f in ts.glob("part-*.parquet"):
        _, a, b = f.stem.split("-")
        if (folder / "decisions" / f.name).exists() and (folder / "outcomes" / f.name).exists():
            done.add((int(a), int(b)))
    return done


def write_table(path: Path, columns: dict[str, np.ndarray]) -> None:
    """Write a Parquet table atomically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table({k: pa.array(v) for k, v in columns.items()})
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)


def finalize(partial: Path) -> Path:
    """Rename a complete partial folder into place (never over an existing folder)."""
    final = final_path(partial)
    if final.exists():
        raise FileExistsError(f"{final} already exists; refusing to overwrite")
    os.replace(partial, final)
    return final


def free_bytes(path: Path) -> int:
    return shutil.disk_usage(path).free
