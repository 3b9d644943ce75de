"""Files: atomic writes, safe names, time stamps, and reading and verifying run folders.

The lowest layer, with ``model.errors``: every other layer may import it and it imports
nothing else of the model. Run folders are the contract between running and analysis
(runs/README.md documents every file and column); this module is their only reader.

A complete run folder seals its contents: ``manifest.json`` records the sha256 digest of every
other file in the folder and of the manifest itself (``integrity``), and :func:`verify_run`
refuses an unfinished (``.partial``) folder, a missing, edited or extra data file, and a
truncated or edited manifest, with a one-line error that names the file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from model.errors import InputError

PARTIAL_PREFIX = "."
PARTIAL_SUFFIX = ".partial"
MANIFEST = "manifest.json"
LOCK = ".lock"
TABLES = ("timeseries", "decisions", "outcomes")  # outcomes last: its part marks a chunk done
FORMAT = 2  # manifest format: 2 adds ``integrity`` (file digests) and ``machine``


# ------------------------------------------------------------------ names and time
def utc_stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def new_stamped_folder(parent: Path, name: str) -> Path:
    """Create ``parent/<UTC stamp>-<name>``, or ``...-2``, ``-3``, ... when that second's folder exists.

    Why: a second report of the same kind within one second (a sweep or compare that reuses its runs
    takes well under a second) must get a folder of its own, not fail or overwrite the first.
    """
    base = f"{utc_stamp()}-{name}"
    for k in range(1, 10_000):
        folder = parent / (base if k == 1 else f"{base}-{k}")
        try:
            folder.mkdir(parents=True, exist_ok=False)
            return folder
        except FileExistsError:
            continue
    raise FileExistsError(f"{parent / base}: 9,999 folders of that name this second")


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def safe_component(name: str) -> str:
    """A folder-name component that cannot climb out of its parent."""
    cleaned = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)[:80]
    return cleaned.strip("._") or "unnamed"


def is_partial(folder: Path) -> bool:
    return folder.name.startswith(PARTIAL_PREFIX) and folder.name.endswith(PARTIAL_SUFFIX)


def final_path(partial: Path) -> Path:
    name = partial.name
    if is_partial(partial):
        name = name[len(PARTIAL_PREFIX) : -len(PARTIAL_SUFFIX)]
    return partial.parent / name


def chunk_name(start: int, stop: int) -> str:
    return f"part-{start:09d}-{stop:09d}.parquet"


def chunk_range(name: str) -> tuple[int, int] | None:
    """(start, stop) of a chunk file name, or None when the name is not one."""
    parts = name.removesuffix(".parquet").split("-")
    if len(parts) != 3 or parts[0] != "part" or not name.endswith(".parquet"):
        return None
    if not (parts[1].isdigit() and parts[2].isdigit()):
        return None
    return int(parts[1]), int(parts[2])


def finished_chunks(folder: Path) -> set[tuple[int, int]]:
    """Chunks whose three tables are all on disk."""
    done = set()
    ts = folder / "timeseries"
    if not ts.exists():
        return done
    for f in ts.glob("part-*.parquet"):
        rng = chunk_range(f.name)
        if rng and (folder / "decisions" / f.name).exists() and (folder / "outcomes" / f.name).exists():
            done.add(rng)
    return done


# ------------------------------------------------------------------ atomic writes
def write_text(path: Path, text: str) -> None:
    """Write text atomically (a new temporary file in the same folder, then rename).

    The temporary file is created exclusively with a random name (never an existing file or a
    link someone placed there), and a link at ``path`` itself is refused rather than followed.
    """
    import tempfile

    path = Path(path)
    if path.is_symlink():
        raise OSError(f"{path} is a symbolic link; not writing through it")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def fsync_file(path: Path) -> None:
    """Flush a written file's data to the disk (before it is renamed into place)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (a rename into it) to the disk; a no-op where folders cannot be opened.

    Why: a rename is durable only once its folder is; without this a power cut after the rename
    can leave the old name, or a file of zero length, however carefully the file was written.
    """
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a folder; the file itself was synced
    finally:
        os.close(fd)


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically."""
    write_text(path, json.dumps(data, indent=2, sort_keys=False, default=_jsonable) + "\n")


def write_table(path: Path, columns: dict[str, np.ndarray]) -> None:
    """Write a Parquet table atomically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table({k: pa.array(v) for k, v in columns.items()})
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp, compression="zstd")
    fsync_file(tmp)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def chunk_problem(folder: Path, start: int, stop: int, steps: int) -> str | None:
    """Why a finished chunk's files cannot be trusted (unreadable, truncated, wrong rows), or None.

    Reads only each Parquet file's footer: a truncated or overwritten file has none, and the row
    counts must be those of replicates [start, stop) over the run's steps.
    """
    import pyarrow.parquet as pq

    name = chunk_name(start, stop)
    n = stop - start
    expected = {"timeseries": (steps + 1) * n, "decisions": steps * n, "outcomes": n}
    for table in TABLES:
        try:
            rows = pq.read_metadata(folder / table / name).num_rows
        except Exception as exc:  # noqa: BLE001 - pyarrow raises ArrowInvalid, OSError and others for a broken file
            return f"{table}/{name} is unreadable ({_reason(exc)})"
        if rows != expected[table]:
            return f"{table}/{name} has {rows} rows, not {expected[table]}"
    return None


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


def remove_temporaries(folder: Path) -> None:
    """Delete the ``.<name>.tmp`` files an interrupted writer may have left."""
    for sub in (folder, *(folder / t for t in TABLES), folder / "plots"):
        if sub.is_dir():
            for f in sub.glob(".*.tmp"):
                f.unlink(missing_ok=True)


# ------------------------------------------------------------------ digests
def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def data_files(folder: Path) -> list[str]:
    """Every file of a run folder except the manifest and hidden (temporary, lock) files, sorted."""
    out = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for n in names:
            if n.startswith("."):
                continue
            rel = Path(root, n).relative_to(folder).as_posix()
            if rel != MANIFEST:
                out.append(rel)
    return sorted(out)


def manifest_digest(meta: dict[str, Any]) -> str:
    """Digest of a manifest's content without its own ``integrity.manifest`` entry."""
    body = json.loads(json.dumps(meta, default=_jsonable))
    integrity = dict(body.get("integrity") or {})
    integrity.pop("manifest", None)
    body["integrity"] = integrity
    blob = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
    return hashlib.sha256(blob).hexdigest()


def seal(folder: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """Record the digest of every file in the folder, then of the manifest; write the manifest."""
    meta["integrity"] = {
        "algorithm": "sha256",
        "files": {rel: sha256_file(folder / rel) for rel in data_files(folder)},
    }
    meta["integrity"]["manifest"] = manifest_digest(meta)
    write_json(folder / MANIFEST, meta)
    return meta


# ------------------------------------------------------------------ reading
def read_manifest(folder: str | Path) -> dict[str, Any]:
    """The manifest of a run folder (complete or not); InputError, never a traceback, when it is unreadable."""
    path = Path(folder) / MANIFEST
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError.one(str(Path(folder)), "not a run folder (no manifest.json)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError.one(str(path), f"cannot read the manifest: {_reason(exc)}") from None
    try:
        meta = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise InputError.one(str(path), f"the manifest is truncated or corrupt ({_reason(exc)})") from None
    if not isinstance(meta, dict):
        raise InputError.one(str(path), "the manifest is corrupt (not a JSON object)")
    return meta


def _reason(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def verify_run(folder: str | Path) -> dict[str, Any]:
    """The manifest of a complete, unaltered run folder; InputError naming the file otherwise."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError.one(str(folder), "not a run folder (no such directory)")
    if is_partial(folder):
        raise InputError.one(
            str(folder), f"an unfinished run (.partial); finish it first with: entente run --resume {folder}"
        )
    meta = read_manifest(folder)
    mpath = str(folder / MANIFEST)
    if meta.get("status") != "complete":
        raise InputError.one(mpath, f"the run is not complete (status {str(meta.get('status'))[:40]!r})")
    integrity = meta.get("integrity")
    if not isinstance(integrity, dict) or not isinstance(integrity.get("files"), dict):
        raise InputError.one(
            mpath,
            f"the manifest records no file digests (an older entente wrote it); re-create it: entente rerun {folder}",
        )
    if integrity.get("manifest") != manifest_digest(meta):
        raise InputError.one(mpath, "the manifest was changed after the run completed (its digest does not match)")
    listed: dict[str, Any] = integrity["files"]
    for rel, digest in sorted(listed.items()):
        if not isinstance(rel, str) or rel.startswith("/") or ".." in Path(rel).parts:
            raise InputError.one(mpath, f"the manifest lists an unsafe path {rel!r}")
        path = folder / rel
        if not path.is_file():
            raise InputError.one(str(path), "missing from the run folder (the manifest records it)")
        if sha256_file(path) != digest:
            raise InputError.one(str(path), "changed after the run completed (its sha256 digest does not match)")
    for rel in data_files(folder):
        if rel not in listed:
            raise InputError.one(str(folder / rel), "not part of the run (the manifest does not record it)")
    _check_chunks(folder, meta, listed)
    return meta


def _check_chunks(folder: Path, meta: dict[str, Any], listed: dict[str, Any]) -> None:
    """The chunk files of every table cover replicates 0..N-1 exactly once."""
    n = meta.get("replicates")
    for table in TABLES:
        ranges = sorted(r for rel in listed if rel.startswith(f"{table}/") and (r := chunk_range(rel.split("/", 1)[1])))
        pos = 0
        for a, b in ranges:
            if a != pos or b <= a:
                raise InputError.one(str(folder / table), f"chunk files do not cover replicates {pos}.. without gaps")
            pos = b
        if pos != n:
            raise InputError.one(str(folder / table), f"chunk files cover {pos} replicates, the manifest says {n}")


def _parts(folder: Path, table: str) -> list[Path]:
    return sorted((folder / table).glob("part-*.parquet"))


def read_outcomes(folder: str | Path, below: int | None = None) -> dict[str, np.ndarray]:
    """The per-replicate outcome table (from the chunk files), sorted by replicate.

    ``below`` keeps only replicates with a smaller index (chunks beyond it are not read).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = Path(folder)
    parts = [p for p in _parts(folder, "outcomes") if below is None or (chunk_range(p.name) or (0, 0))[1] <= below]
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


def read_replicate_series(folder: str | Path, replicate: int, variables: list[str]) -> np.ndarray | None:
    """One replicate's stored trajectory as a (steps + 1, variables) array, or None when it is not stored."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    for part in _parts(Path(folder), "timeseries"):
        rng = chunk_range(part.name)
        if rng and rng[0] <= replicate < rng[1]:
            t = pq.read_table(part)
            t = t.filter(pc.equal(t.column("replicate"), replicate))
            if t.num_rows == 0:
                return None
            return np.stack([t.column(v).to_numpy() for v in variables], axis=1)
    return None


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    p = Path(path)
    if not p.exists():
        return []
    return [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
