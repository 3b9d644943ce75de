"""Errors a user can cause, each with the place in the file that caused it.

Every problem in an input file becomes an ``InputIssue`` (file, line, column, key path,
message); ``InputError`` carries one or more of them. The command line prints them one per
line and exits 2; nothing else that a file can trigger may escape as a traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """``text`` with control characters (newlines, carriage returns, escapes) shown as escapes."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


@dataclass(frozen=True)
class InputIssue:
    """One problem in one input file, located as precisely as we can."""

    file: str
    line: int | None
    column: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        key = f" {self.key}:" if self.key else ""
        return one_line(f"{where}:{key} {self.message}")


@dataclass
class InputError(Exception):
    """Bad input: one or more located issues. Exit code 2 at the command line."""

    issues: list[InputIssue] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(i) for i in self.issues)

    @classmethod
    def one(
        cls, file: str, message: str, line: int | None = None, column: int | None = None, key: str = ""
    ) -> InputError:
        return cls([InputIssue(file, line, column, key, message)])


class RunError(Exception):
    """A run could not complete (not the user's input): exit code 1 with a clear message."""


def did_you_mean(word: str, options: list[str] | set[str]) -> str:
    """Return a ``; did you mean 'x'?`` suffix when a close match exists, else ''."""
    import difflib

    match = difflib.get_close_matches(str(word), sorted(str(o) for o in options), n=1, cutoff=0.6)
    return f"; did you mean '{match[0]}'?" if match else ""
