"""Located issues: the checker every section of a scenario reports through.

Why a checker object rather than exceptions: a scenario is untrusted input and every problem
in it is collected (not just the first), each as one line with file, line, column and key path.
The checker maps a key path of the merged document back to the file and line that wrote it,
and to the index that file gives a list item.
"""

from __future__ import annotations

import math
from typing import Any

from model.errors import InputIssue, did_you_mean
from model.safeyaml import dotted, type_name

MAX_SUGGESTIONS = 200  # 'did you mean' is computed for this many unknown names per file, then skipped
# marks key (LOCAL_INDEX, list, merged index) -> (file, the file's own index, None); written by
# read._shift_marks when lists are merged, read by _Checker.shown to name an item as its file does
LOCAL_INDEX = "#index"


class _Checker:
    """Collects located issues while walking one merged document."""

    def __init__(self, marks: dict[tuple, tuple[str, int | None, int | None]], default_file: str) -> None:
        self.marks = marks
        self.file = default_file
        self.issues: list[InputIssue] = []
        # a path prefix whose marks live under another prefix (events appended by a lever option)
        self.aliases: dict[tuple, tuple] = {}
        self.suggestions_left = MAX_SUGGESTIONS

    def at(self, path: tuple) -> tuple[str, int | None, int | None]:
        p = tuple(path)
        if self.aliases:
            for k in range(len(p), 0, -1):
                target = self.aliases.get(p[:k])
                if target is not None:
                    p = (*target, *p[k:])
                    break
        while p:
            if p in self.marks:
                return self.marks[p]
            p = p[:-1]
        return self.marks.get((), (self.file, 1, 1))

    def shown(self, path: tuple) -> tuple:
        """The key path as the file that wrote it numbers it (not the merged document's index).

        A child's first event is ``events[0]`` of the child's file, though its parent's events come
        before it once merged; an event a lever option appends is named inside that option.
        """
        p = tuple(path)
        if len(p) >= 2 and isinstance(p[1], int):
            target = self.aliases.get(p[:2])
            if target is not None:
                return (*target, *p[2:])
            local = self.marks.get((LOCAL_INDEX, p[0], p[1]))
            if local is not None and isinstance(local[1], int):
                return (p[0], local[1], *p[2:])
        return p

    def bad(self, path: tuple, message: str, col_offset: int | None = None) -> None:
        file, line, col = self.at(path)
        if col_offset is not None and col is not None:
            col = col + col_offset
        self.issues.append(InputIssue(file, line or 1, col or 1, dotted(self.shown(path)), message))

    def suggest(self, word: Any, options: Any) -> str:
        """A 'did you mean' suffix (bounded work per file: a file of 20,000 typos stays fast)."""
        if not isinstance(word, str) or self.suggestions_left <= 0:
            return ""
        self.suggestions_left -= 1
        return did_you_mean(word, options)

    def expect(self, path: tuple, value: Any, kinds: tuple[type, ...], what: str) -> bool:
        ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
        if not ok:
            self.bad(path, f"expected {what}, found {type_name(value)}")
        return ok

    def name(self, path: tuple, value: Any, options: Any, what: str) -> bool:
        """``value`` is a string among ``options`` (a list, set or mapping); report it otherwise."""
        if not isinstance(value, str):
            article = "an" if what[0] in "aeiou" else "a"
            self.bad(path, f"expected {article} {what} (text), found {type_name(value)}")
            return False
        if value not in options:
            self.bad(path, f"unknown {what} '{_short(value)}'{self.suggest(value, list(options))}")
            return False
        return True

    def number(
        self, path: tuple, value: Any, lo: float | None = None, hi: float | None = None, integer: bool = False
    ) -> bool:
        kinds: tuple[type, ...] = (int,) if integer else (int, float)
        if not self.expect(path, value, kinds, "a whole number" if integer else "a number"):
            return False
        if isinstance(value, float) and not math.isfinite(value):
            self.bad(path, f"expected a finite number, found {value}")
            return False
        if lo is not None and value < lo:
            self.bad(path, f"expected a value >= {lo}, found {_short(value)}")
            return False
        if hi is not None and value > hi:
            self.bad(path, f"expected a value <= {hi}, found {_short(value)}")
            return False
        return True


def _capped(ck: _Checker, key: str, items: list[Any], cap: int, what: str) -> list[Any]:
    """The first ``cap`` items of a list section; one located error for the rest, which are not checked.

    Why: a file of 100 kB can hold 20,000 aliased events; what is beyond any real scenario is
    refused in constant time instead of being validated and simulated for minutes.
    """
    if len(items) <= cap:
        return items
    ck.bad((key, cap), f"a scenario holds at most {cap} {what}; this one has {len(items):,}")
    return items[:cap]


def _short(value: Any, limit: int = 40) -> str:
    text = str(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}... ({len(text)} characters)"
