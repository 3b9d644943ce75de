"""Run an ensemble: chunks of replicates, across processes or a Dask cluster, streamed to disk.

Every chunk is a contiguous range of replicate indices simulated as one vectorised batch.
Because a replicate's trajectory depends only on the configuration, the master seed and its
index, results are identical bit for bit for any worker count, chunk size or executor.
Each chunk writes its own three Parquet files, so memory stays bounded however many
replicates run, and an interrupted run keeps every finished chunk.
"""

from __future__ import annotations

import math
import os
import signal
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from model import files
from model.engine import Config
from model.engine.rng import replicate_keys
from model.errors import InputError
from model.execution import store

BYTES_PER_REPLICATE_STEP = 90  # measured on the baseline (zstd Parquet); used for the disk check
DEFAULT_MAX_REPLICATES = 100_000


class ChunkFailure(Exception):
    """A chunk failed inside the model; names the first failing replicate and its seed."""

    def __init__(self, start: int, stop: int, replicate: int | None, seed: int | None, message: str) -> None:
        super().__init__(start, stop, replicate, seed, message)
        self.start, self.stop, self.replicate, self.seed, self.message = start, stop, replicate, seed, message

    def __str__(self) -> str:
        return self.message


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread like Ctrl-C so the run stops the same way."""


class WorkerLost(RuntimeError):
    """A worker process died without reporting (killed, or out of memory)."""


@dataclass
class Progress:
    """A text progress bar on stderr: shown only for work that lasts more than about a second."""

    total: int
    label: str = "replicates"
    quiet: bool = False
    started: float = 0.0
    done: int = 0
    _last: float = 0.0
    _shown: bool = False
    _last_decile: int = -1

    def __post_init__(self) -> None:
        self.started = time.perf_counter()

    def add(self, n: int) -> None:
        self.done += n
        now = time.perf_counter()
        elapsed = now - self.started
        if self.quiet or elapsed < 1.0 and self.done < self.total:
            return
        tty = sys.stderr.isatty()
        decile = int(10 * self.done / max(self.total, 1))
        if tty and now - self._last < 0.2 and self.done < self.total:
            return
        if not tty and decile == self._last_decile and self.done < self.total:
            return
        self._last, self._last_decile, self._shown = now, decile, True
        rate = self.done / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else 0.0
        width = 30
        filled = int(width * self.done / max(self.total, 1))
        bar = "#" * filled + "-" * (width - filled)
        line = (
            f"[{bar}] {self.done}/{self.total} {self.label}  {rate:,.0f}/s  {elapsed:5.1f}s elapsed, ~{left:4.1f}s left"
        )
        sys.stderr.write(("\r" if tty else "") + line + ("" if tty else "\n"))
        if tty and self.done >= self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def plan_chunks(start: int, stop: int, chunk_size: int) -> list[tuple[int, int]]:
    """Contiguous replicate ranges of at most chunk_size covering [start, stop)."""
    return [(a, min(a + chunk_size, stop)) for a in range(start, stop, chunk_size)]


def default_chunk_size(replicates: int, workers: int) -> int:
    # at most 2,500 replicates a chunk: a chunk of 52 weekly steps then peaks near 200 MB per worker
    return int(max(250, min(2500, math.ceil(replicates / max(1, 4 * workers)))))


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def chunk_tables(
    result: Any, start_date: str | None = None
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The three on-disk tables of one simulated chunk (columns documented in runs/README.md).

    With a ``start_date`` the time series carry the calendar ``date`` of each step's end (a
    reader of the Parquet files needs no step arithmetic).
    """
    T1, R, V = result.series.shape
    reps = result.replicates.astype(np.int64)
    ts: dict[str, np.ndarray] = {
        "replicate": np.tile(reps, T1),
        "step": np.repeat(np.arange(T1, dtype=np.int32), R),
    }
    if start_date:
        seconds = np.rint(np.arange(T1) * float(result.step_days) * 86400).astype("timedelta64[s]")
        ts["date"] = np.repeat(np.datetime64(str(start_date), "s") + seconds, R)
    for i, name in enumerate(result.variables):
        ts[name] = result.series[:, :, i].astype(np.float32).ravel()
    T = T1 - 1
    dec: dict[str, np.ndarray] = {
        "replicate": np.tile(reps, T),
        "step": np.repeat(np.arange(1, T1, dtype=np.int32), R),
    }
    for u, name in enumerate(result.units):
        dec[f"{name}.option"] = result.choices[:, :, u].astype(np.int16).ravel()
        dec[f"{name}.forced"] = result.forced[:, :, u].ravel()
    for a, name in enumerate(result.actors):  # constraints bind an actor, whatever the track
        units = [u for u, ua in enumerate(result.unit_actor) if ua == a]
        bound = np.zeros(result.bound.shape[:2], dtype=np.int64)
        for u in units:
            bound |= result.bound[:, :, u]
        dec[f"{name}.bound"] = bound.ravel()
    out: dict[str, np.ndarray] = {"replicate": reps, "seed": result.keys.astype(np.uint64)}
    for path, values in sorted(result.sampled.items()):
        out[f"sampled:{path}"] = values.astype(np.float64)
    for name, values in result.outcomes.items():
        out[name] = values
    for k in range(len(result.events)):  # the step each event was applied (0 = never), and why it waited
        out[f"event:{k}"] = result.event_step[k].astype(np.int32)
        out[f"event_blocked:{k}"] = result.event_blocked[k].astype(np.int32)
        out[f"event_deferred:{k}"] = result.event_deferred[k].astype(np.int32)
    return ts, dec, out


def _start_date(folder: str) -> str | None:
    """The run's start date, from the manifest written before any chunk (None without one)."""
    try:
        return files.read_manifest(Path(folder)).get("start_date")
    except (InputError, OSError, ValueError):  # a folder without a readable manifest writes no date column
        return None


def run_chunk(config: Config, start: int, stop: int, folder: str) -> dict[str, Any]:
    """Simulate replicates [start, stop) and write their three tables; runs in any worker."""
    from model.engine import simulate  # looked up per chunk, not bound at import: tests substitute a failing engine

    t0 = time.perf_counter()
    try:
        result = simulate(config, np.arange(start, stop), extremes="outcomes")
    except Exception as exc:  # noqa: BLE001 - any model failure is reported with the replicate that caused it
        bad = None
        for r in range(start, stop):
            try:
                simulate(config, [r])
            except Exception:  # noqa: BLE001
                bad = r
                break
        seed = int(replicate_keys(config.seed, np.array([bad]))[0]) if bad is not None else None
        raise ChunkFailure(start, stop, bad, seed, f"{type(exc).__name__}: {exc}") from None
    ts, dec, out = chunk_tables(result, _start_date(folder))
    base = Path(folder)
    name = files.chunk_name(start, stop)
    for table, columns in zip(files.TABLES, (ts, dec, out), strict=True):  # outcomes last: marks the chunk done
        _check_parent()
        files.write_table(base / table / name, columns)
    return {"start": start, "stop": stop, "seconds": time.perf_counter() - t0}


# ------------------------------------------------------------------ workers die with their parent
_PARENT: int | None = None  # set in worker processes only
PR_SET_PDEATHSIG = 1


def worker_init(parent: int) -> None:
    """Initializer of every local worker: die with the parent, leave Ctrl-C and SIGTERM to it.

    On Linux the kernel kills the worker when its parent dies (``prctl(PR_SET_PDEATHSIG)``); on
    every platform a watchdog thread and a check before each write stop a worker whose parent
    has gone, so a ``kill -9`` of ``entente`` never leaves workers writing into the folder.
    """
    global _PARENT
    _PARENT = parent
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent handles it
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the parent's handler was inherited by fork
    if sys.platform.startswith("linux"):
        try:
            import ctypes  # only here: the prctl call it makes exists on Linux alone

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    _check_parent()
    threading.Thread(target=_watch_parent, name="entente-parent-watch", daemon=True).start()


def _check_parent() -> None:
    if _PARENT is not None and os.getppid() != _PARENT:
        os._exit(1)


def _watch_parent() -> None:
    while True:
        time.sleep(0.5)
        _check_parent()


def _sigterm(_signum: int, _frame: Any) -> None:
    raise Terminated


def execute(
    config: Config,
    chunks: Iterable[tuple[int, int]],
    folder: Path,
    workers: int = 1,
    executor: str = "local",
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """Run the chunks that are not on disk yet; return their summaries."""
    todo = [c for c in chunks if c not in files.finished_chunks(folder)]
    summaries: list[dict[str, Any]] = []
    old = signal.signal(signal.SIGTERM, _sigterm) if _main_thread() else None
    try:
        if executor in ("dask", "dask-local"):
            summaries = _execute_dask(config, todo, folder, workers, scheduler, progress)
        elif workers <= 1 or len(todo) <= 1:
            for a, b in todo:
                summaries.append(run_chunk(config, a, b, str(folder)))
                if progress:
                    progress.add(b - a)
        else:
            summaries = _execute_pool(config, todo, folder, workers, progress)
    finally:
        if old is not None:
            signal.signal(signal.SIGTERM, old)
    return summaries


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _execute_pool(
    config: Config, todo: list[tuple[int, int]], folder: Path, workers: int, progress: Progress | None
) -> list[dict[str, Any]]:
    """Run chunks on local worker processes.

    When this returns or raises, no worker of this call is alive, so the chunks on disk are final.
    """
    out: list[dict[str, Any]] = []
    tasks = [(a, b, str(folder)) for a, b in todo]
    with closing(pool_map(run_chunk, config, tasks, workers)) as results:
        for _, res in results:
            out.append(res)
            if progress:
                progress.add(res["stop"] - res["start"])
    return out


def _worker_main(conn: Any, parent: int, fn: Any, shared: Any) -> None:
    worker_init(parent)
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        i, task = msg
        try:
            res = fn(shared, *task) if shared is not None else fn(*task)
            conn.send((i, True, res))
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which decides
            try:
                conn.send((i, False, exc))
            except Exception:  # noqa: BLE001 - an exception that cannot be pickled
                conn.send((i, False, RuntimeError(f"{type(exc).__name__}: {exc}")))


def pool_map(fn: Any, shared: Any, tasks: list[tuple], workers: int) -> Iterator[tuple[int, Any]]:
    """``fn(shared, *task)`` for every task on worker processes; yields (task index, result) as they finish.

    A plain pool of forked processes, one pipe each and no helper threads: on any exception
    (a task's, Ctrl-C, SIGTERM) every worker is terminated and waited for before it propagates.
    ``shared`` is inherited by fork (not pickled per task). A worker that dies without a
    result raises WorkerLost.
    """
    import multiprocessing as mp  # only the worker pool needs it (in-process and Dask runs do not)
    from multiprocessing.connection import wait as wait_any

    ctx = mp.get_context("fork") if sys.platform.startswith("linux") else mp.get_context("spawn")
    procs: list[Any] = []
    conns: list[Any] = []
    busy: dict[Any, int] = {}
    queue = list(enumerate(tasks))[::-1]
    try:
        for _ in range(max(1, min(workers, len(tasks)))):
            here, there = ctx.Pipe()
            proc = ctx.Process(target=_worker_main, args=(there, os.getpid(), fn, shared), daemon=True)
            proc.start()
            there.close()
            procs.append(proc)
            conns.append(here)
        sentinels = {p.sentinel: c for p, c in zip(procs, conns, strict=True)}

        def feed(conn: Any) -> None:
            if queue:
                i, task = queue.pop()
                conn.send((i, task))
                busy[conn] = i
            else:
                conn.send(None)

        for conn in conns:
            feed(conn)
        while busy:
            for ready in wait_any([*busy, *(s for s, c in sentinels.items() if c in busy)]):
                conn = sentinels.get(ready, ready)
                if conn not in busy:
                    continue
                if ready is not conn and not conn.poll():
                    raise WorkerLost(
                        f"a worker process died while working on task {busy[conn]} (killed, or out of memory?)"
                    )
                try:
                    i, ok, res = conn.recv()
                except (EOFError, OSError):
                    raise WorkerLost(
                        f"a worker process died while working on task {busy[conn]} (killed, or out of memory?)"
                    ) from None
                del busy[conn]
                if not ok:
                    raise res
                feed(conn)
                yield i, res
    finally:
        stop_processes(procs)
        for conn in conns:
            conn.close()


def stop_processes(procs: list[Any]) -> None:
    """Terminate worker processes and wait until they are gone (a second Ctrl-C waits too)."""
    old = signal.signal(signal.SIGINT, signal.SIG_IGN) if _main_thread() else None
    try:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        deadline = time.monotonic() + 10
        for proc in procs:
            proc.join(max(0.0, deadline - time.monotonic()))
            if proc.is_alive():
                proc.kill()
                proc.join(5)
    finally:
        if old is not None:
            signal.signal(signal.SIGINT, old)


def _execute_dask(
    config: Config,
    todo: list[tuple[int, int]],
    folder: Path,
    workers: int,
    scheduler: str | None,
    progress: Progress | None,
) -> list[dict[str, Any]]:
    try:
        from distributed import Client, LocalCluster, as_completed  # optional dependency, heavy: only when asked for
    except ImportError as exc:
        raise RuntimeError("the Dask executor needs 'dask[distributed]': pip install 'entente[dask]'") from exc
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        cfg = client.scatter(config, broadcast=True)
        futures = [client.submit(run_chunk, cfg, a, b, str(folder), pure=False) for a, b in todo]
        out = []
        for fut in as_completed(futures):
            res = fut.result()
            out.append(res)
            if progress:
                progress.add(res["stop"] - res["start"])
        return out
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def check_disk(folder: Path, replicates: int, steps: int, variables: int) -> None:
    """Refuse to start a run that clearly cannot fit on the disk."""
    need = replicates * (steps + 1) * BYTES_PER_REPLICATE_STEP * max(1, variables) // 30
    free = store.free_bytes(folder)
    if need > free:
        raise OSError(
            f"not enough disk space in {folder}: the run needs about {need / 1e6:.0f} MB, {free / 1e6:.0f} MB free"
        )
