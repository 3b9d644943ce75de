"""Reading scenario files: safe YAML, ``extends`` chains, and the merge of a file onto its parent.

Why separate from compiling: what a chain of files says (merged, with the file, line and
column of every key) is what ``--set``, sweeps and ``overrides=`` apply their settings to
(``settings.py``) before anything is validated; the compiler (``compile.py``) then checks that
one merged document.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from model.errors import InputError
from model.safeyaml import Marks, load_file, type_name
from model.scenario.check import LOCAL_INDEX, _short
from model.scenario.format import MAX_EXTENDS_DEPTH, SETTINGS_KEY


def scenarios_dir() -> Path:
    """The shipped scenarios folder (next to the package in a checkout)."""
    return Path(__file__).resolve().parent.parent.parent / "scenarios"


def shipped() -> list[Path]:
    """The shipped scenario files, sorted by name."""
    return sorted(scenarios_dir().glob("*.yaml"))


def _file_marks(marks: Marks, file: str) -> dict[tuple, tuple[str, int | None, int | None]]:
    return {k: (file, v[0], v[1]) for k, v in marks.items()}


def _shift_marks(omarks: dict, path: tuple, index: dict[int, int]) -> None:
    """Renumber the marks of list items under ``path`` (old index -> new index) in one pass.

    Each moved item also records the index its own file gives it, so errors name ``events[0]`` of
    the child's file rather than the merged document's ``events[7]``.
    """
    n = len(path)
    shifted = {}
    for k, v in omarks.items():
        if len(k) > n and k[:n] == path and isinstance(k[n], int):
            if k[n] in index:
                shifted[(*path, index[k[n]], *k[n + 1 :])] = v
                if len(k) == n + 1:
                    shifted[(LOCAL_INDEX, *path, index[k[n]])] = (v[0], k[n], None)
        elif k[:1] == (LOCAL_INDEX,) and k[1:-1] == path:
            continue  # an index the file itself recorded is replaced by the one above
        else:
            shifted[k] = v
    omarks.clear()
    omarks.update(shifted)


def _merge(base: Any, over: Any, bmarks: dict, omarks: dict, path: tuple = ()) -> Any:
    """Deep merge: mappings merge key by key, ``events``, ``questions`` and ``claims`` lists append, others replace."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = _merge(base[k], v, bmarks, omarks, (*path, k)) if k in base else v
        return out
    if path in (("events",), ("claims",), ("questions",)) and isinstance(base, list) and isinstance(over, list):
        n = len(base)
        if path == ("claims",):
            seen = {c for c in base if isinstance(c, str)}
            kept = [i for i, c in enumerate(over) if (c not in seen if isinstance(c, str) else c not in base)]
            _shift_marks(omarks, path, {i: n + j for j, i in enumerate(kept)})
            return base + [over[i] for i in kept]
        _shift_marks(omarks, path, {i: n + i for i in range(len(over))})
        return base + over
    return over


def _resolve_extends(ref: str, here: Path, root: Path) -> tuple[Path | None, Path]:
    """The file ``ref`` names (None if it leaves the allowed tree) and the tree it may extend within."""
    shipped_root = scenarios_dir().resolve()
    if here.resolve().parent == shipped_root:
        root = shipped_root  # a shipped scenario extends within the shipped folder
    if any(ch in ref for ch in "/\\") or ref.endswith((".yaml", ".yml")):
        cand = (here.parent / ref).resolve()
    else:
        cand = (here.parent / f"{ref}.yaml").resolve()
        if not cand.exists():
            cand = (shipped_root / f"{ref}.yaml").resolve()
            root = shipped_root
    try:
        cand.relative_to(root)
    except ValueError:
        return None, root
    return cand, root


def load_document(path: str | Path) -> tuple[dict[str, Any], dict, list[str]]:
    """Load a scenario file and everything it extends, merged; with the origin of each key."""
    if not isinstance(path, str | Path) or not str(path):
        raise InputError.one("scenario", f"expected a scenario file's path, found {type(path).__name__} {path!r:.40}")
    path = Path(path)
    try:
        root = path.resolve().parent
    except (OSError, ValueError, RuntimeError) as exc:
        raise InputError.one(str(path), f"cannot read file: {getattr(exc, 'strerror', None) or exc}", 1, 1) from None
    chain: list[Path] = []
    docs: list[tuple[dict[str, Any], dict]] = []
    current = path
    where: tuple[str, int, int] | None = None  # the 'extends:' that led to ``current``
    while True:
        display = str(current)
        try:
            resolved = current.resolve()
        except (OSError, RuntimeError) as exc:  # a symbolic link loop: RuntimeError before Python 3.13
            file, line, col = where or (str(path), 1, 1)
            reason = getattr(exc, "strerror", None) or str(exc)
            raise InputError.one(
                file, f"cannot read '{display}': {reason}", line, col, "extends" if where else ""
            ) from None
        if resolved in chain:
            cycle = " -> ".join(p.name for p in [*chain, resolved])
            file, line, col = where or (str(path), 1, 1)
            raise InputError.one(file, f"'extends' forms a cycle: {cycle}", line, col, "extends")
        if len(chain) >= MAX_EXTENDS_DEPTH:
            file, line, col = where or (str(path), 1, 1)
            raise InputError.one(file, f"'extends' chain is deeper than {MAX_EXTENDS_DEPTH}", line, col, "extends")
        chain.append(resolved)
        data, marks = load_file(current, display)
        if SETTINGS_KEY in data:
            line, col = marks.get((SETTINGS_KEY,), (1, 1))
            raise InputError.one(
                display,
                "'settings' records command-line --set values in a run's manifest; in a file, pick a lever's "
                "option with its 'value:' and fix a parameter under 'constants:'",
                line,
                col,
                SETTINGS_KEY,
            )
        fm = _file_marks(marks, display)
        docs.append((data, fm))
        ref = data.get("extends")
        if ref is None:
            break
        line, col = marks.get(("extends",), (1, 1))
        if not isinstance(ref, str) or not ref.strip():
            raise InputError.one(
                display, f"expected a scenario name or path, found {type_name(ref)}", line, col, "extends"
            )
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in ref) or len(ref) > 1024:
            raise InputError.one(display, f"'{_short(ref)}' is not a scenario name or path", line, col, "extends")
        try:
            parent, root = _resolve_extends(ref, current, root)
            found = parent is not None and parent.exists()
        except (OSError, ValueError, RuntimeError) as exc:  # RuntimeError: a symbolic link loop (Python < 3.13)
            reason = getattr(exc, "strerror", None) or str(exc)
            raise InputError.one(display, f"extends '{_short(ref)}': {reason}", line, col, "extends") from None
        if parent is None:
            raise InputError.one(
                display, f"'{_short(ref)}' leaves the scenarios' folder tree; refused", line, col, "extends"
            )
        if not found:
            raise InputError.one(
                display, f"extends '{_short(ref)}': no such scenario ({parent.name})", line, col, "extends"
            )
        where = (display, line or 1, col or 1)
        current = parent
    merged: dict[str, Any] = {}
    mmarks: dict = {}
    for data, fm in reversed(docs):
        fm = dict(fm)
        merged = _merge(merged, data, mmarks, fm)
        mmarks.update(fm)
    merged.pop("extends", None)
    return merged, mmarks, [str(p) for p in chain]
