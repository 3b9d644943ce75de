"""A run in its partial folder: start or reopen it, simulate the planned chunks, stop cleanly, tidy.

Whatever stops a run (Ctrl-C, SIGTERM, a full disk, a dead worker, a model failure) leaves only
complete chunks on disk and ends in one message with the command that resumes it.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from model import files
from model.errors import InputError, RunError
from model.execution import runner, store
from model.execution.manifest import build_manifest, check_recorded_options
from model.execution.options import RunOptions
from model.scenario import Scenario


class RunStopped(RunError):
    """A run stopped before it was complete; ``exit_code`` follows the cause (130 Ctrl-C, 143 SIGTERM, else 1)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def start(sc: Scenario, parent: Path, opts: RunOptions, command: list[str]) -> tuple[Path, dict[str, Any], IO[bytes]]:
    """Create and lock a new partial run folder directly under ``parent``; write its manifest."""
    workers = opts.workers or runner.default_workers()
    chunk = opts.chunk_size or runner.default_chunk_size(sc.replicates, workers)
    parent = Path(parent)
    try:
        parent.mkdir(parents=True, exist_ok=True)
        runner.check_disk(parent, sc.replicates, sc.horizon, len(sc.config.spec["world"]["variables"]))
        partial, _final = store.new_run_folder(parent, sc.digest)
        handle = store.lock(partial)
        meta = build_manifest(sc, opts, chunk, workers, command)
        meta["trace_requested"] = list(opts.trace)
        if opts.precision is not None:
            meta["precision_requested"] = {"target": opts.precision, "ceiling": opts.max_replicates}
        files.write_json(partial / files.MANIFEST, meta)
    except OSError as exc:
        raise RunError(f"cannot create a run folder under {parent}: {exc}") from None
    return partial, meta, handle


def open_partial(folder: Path) -> tuple[dict[str, Any], IO[bytes]]:
    """Lock an interrupted run folder for resuming; return its manifest (validated) and the lock."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError.one(str(folder), "not a run folder (no such directory)")
    if not files.is_partial(folder):
        if (folder / files.MANIFEST).exists():
            raise InputError.one(str(folder), "already complete; nothing to resume")
        raise InputError.one(str(folder), "not a run folder (no manifest.json)")
    files.read_manifest(folder)  # a clear error before taking the lock
    handle = store.lock(folder)
    try:
        if not folder.is_dir():
            raise InputError.one(str(folder), "the run folder no longer exists (finished by another process?)")
        meta = files.read_manifest(folder)
        check_recorded_options(meta, str(folder / files.MANIFEST))
    except BaseException:
        handle.close()
        raise
    return meta, handle


@dataclass
class Plan:
    """The chunks a run is made of (grows when --precision adds replicates)."""

    total: int
    chunk: int
    done: set[tuple[int, int]] = field(default_factory=set)

    def chunks(self) -> list[tuple[int, int]]:
        return runner.plan_chunks(0, self.total, self.chunk)


def drop_incomplete(partial: Path) -> None:
    """Remove the files of chunks that did not finish (and temporaries), so every part on disk is complete."""
    files.remove_temporaries(partial)
    done = {files.chunk_name(a, b) for a, b in files.finished_chunks(partial)}
    for table in files.TABLES:
        for f in (partial / table).glob("part-*.parquet"):
            if f.name not in done:
                f.unlink(missing_ok=True)


def redo_broken_chunks(partial: Path, steps: int) -> list[str]:
    """Remove every finished chunk whose files cannot be trusted, so it is simulated again; say which.

    A chunk is written file by file and renamed into place, but a disk that filled, a copy cut
    short or an edit can still leave a truncated Parquet file; resuming on it would fail inside
    pyarrow on every attempt. Its three files go, and the run redoes those replicates (the same
    numbers: a replicate depends only on the scenario, the seed and its index).
    """
    notes = []
    for a, b in sorted(files.finished_chunks(partial)):
        why = files.chunk_problem(partial, a, b, steps)
        if why is not None:
            for table in files.TABLES:
                (partial / table / files.chunk_name(a, b)).unlink(missing_ok=True)
            notes.append(f"replicates {a}-{b - 1}: {why}; they are simulated again")
    return notes


def state(partial: Path, plan: Plan) -> str:
    """'3 of 20 chunks (15,000 of 100,000 replicates) are complete and kept in <folder>'.

    Called once every worker has stopped: the files of unfinished chunks are removed first.
    """
    with suppress(OSError):
        drop_incomplete(partial)
    planned = plan.chunks()
    done = files.finished_chunks(partial)
    n = sum(1 for c in planned if c in done)
    reps = sum(b - a for a, b in planned if (a, b) in done)
    return f"{n} of {len(planned)} chunks ({reps:,} of {plan.total:,} replicates) are complete and kept in {partial}"


@contextmanager
def stopping_cleanly(partial: Path, plan: Plan) -> Iterator[None]:
    """Turn Ctrl-C, SIGTERM, a full disk, a dead worker or a model failure into a message and the resume command.

    Every worker has stopped when the message is written, so the count of complete chunks is final.
    """
    main = runner._main_thread()
    old = signal.signal(signal.SIGTERM, runner._sigterm) if main else None
    resume = f"resume with: entente run --resume {partial}"
    try:
        yield
    except KeyboardInterrupt as exc:
        term = isinstance(exc, runner.Terminated)
        raise RunStopped(
            f"interrupted ({'SIGTERM' if term else 'Ctrl-C'}): {state(partial, plan)}\n{resume}",
            143 if term else 130,
        ) from None
    except runner.ChunkFailure as exc:
        raise RunStopped(
            f"replicates {exc.start}-{exc.stop - 1} failed inside the model: {exc.message}\n"
            f"first failing replicate: {exc.replicate} (seed {exc.seed}); {state(partial, plan)}\n"
            f"the failure is deterministic: fix the scenario or the model, then {resume}"
        ) from None
    except runner.WorkerLost as exc:
        raise RunStopped(f"{exc}; {state(partial, plan)}\n{resume}") from None
    except OSError as exc:
        raise RunStopped(f"writing the run failed: {exc}; {state(partial, plan)}\n{resume}") from None
    finally:
        if old is not None:
            signal.signal(signal.SIGTERM, old)


def simulate_chunks(
    sc: Scenario, partial: Path, plan: Plan, opts: RunOptions, workers: int, progress: runner.Progress, start: int = 0
) -> None:
    """Simulate the plan's chunks from ``start`` that are not on disk yet."""
    runner.execute(
        sc.config,
        runner.plan_chunks(start, plan.total, plan.chunk),
        partial,
        workers,
        opts.executor,
        opts.scheduler,
        progress,
    )


def tidy(partial: Path, plan: Plan) -> None:
    """Remove what is not part of the finished run: temporary files and chunk files outside the plan."""
    files.remove_temporaries(partial)
    keep = {files.chunk_name(a, b) for a, b in plan.chunks()}
    for table in files.TABLES:
        for f in (partial / table).glob("part-*.parquet"):
            if f.name not in keep:
                f.unlink()


def now() -> float:
    """The clock run durations are measured with (monotonic, so a clock change cannot make one negative)."""
    return time.perf_counter()
