"""Run folders while they are written: create, lock, finish.

Layout (runs/README.md documents every file and column)::

    runs/<scenario>/<UTC timestamp>-<hash>/
        manifest.json        what was run, how to reproduce it, the data dictionary, file digests
        outcomes.csv         one row per replicate: seed, sampled values, outcomes
        timeseries/part-*.parquet   every recorded variable, every step, every replicate
        decisions/part-*.parquet    each actor's chosen option and binding constraints per step
        constraints.csv      the constraint audit (how often each constraint bound, and when)
        decisions.jsonl      full decision records of a few traced replicates
        narrative.md, summary.md, plots/

A run is written into ``.<name>.partial`` beside its destination and renamed into place only
when complete, so a folder without that prefix is always complete. Chunks are written
atomically (temporary file, then rename), so an interrupted run keeps every finished chunk.
One process at a time works on a partial folder: it holds an exclusive lock on its ``.lock``.
Shared file helpers (atomic writes, names, readers, digests) are in ``model.files``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import IO

from model.errors import InputError
from model.files import LOCK, final_path, fsync_dir, safe_component, utc_stamp


def git_commit() -> str | None:
    """The checkout's commit, when entente runs from a git checkout."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)  # noqa: S603
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def new_run_folder(parent: Path, digest: str) -> tuple[Path, Path]:
    """Create the partial folder for a new run directly under ``parent``; return (partial, final).

    Never reuses a folder: the name carries a timestamp, the scenario hash and random
    bytes, and creation fails rather than overwrite.
    """
    parent.mkdir(parents=True, exist_ok=True)
    if not os.access(parent, os.W_OK):
        raise PermissionError(f"cannot write to {parent}")
    for _ in range(5):
        name = f"{utc_stamp()}-{safe_component(digest)[:7]}{secrets.token_hex(2)}"
        final = parent / name
        partial = parent / f".{name}.partial"
        if not final.exists() and not partial.exists():
            partial.mkdir()
            return partial, final
    raise FileExistsError(f"could not find a free run folder name under {parent}")


def lock(folder: Path) -> IO[bytes]:
    """Take the folder's exclusive lock (held until the returned file is closed); exit 2 if taken."""
    import fcntl  # POSIX only: imported where the lock is taken, so the module imports everywhere

    try:
        fh = open(folder / LOCK, "ab")  # noqa: SIM115 - held open for the whole run
    except FileNotFoundError:
        raise InputError.one(
            str(folder), "the run folder no longer exists (finished or moved by another process?)"
        ) from None
    except PermissionError:
        raise InputError.one(
            str(folder), "cannot write to the run folder (permission denied); a run writes its chunks there"
        ) from None
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        raise InputError.one(
            str(folder), "another entente process is working on this run folder; wait for it to finish"
        ) from None
    return fh


def finalize(partial: Path) -> Path:
    """Rename a complete partial folder into place (never over an existing folder); drop its lock file."""
    final = final_path(partial)
    if final.exists():
        raise FileExistsError(f"{final} already exists; refusing to overwrite")
    (partial / LOCK).unlink(missing_ok=True)
    os.replace(partial, final)
    fsync_dir(final.parent)
    return final


def free_bytes(path: Path) -> int:
    return shutil.disk_usage(path).free
