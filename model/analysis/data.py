"""Read run folders. Analysis reads these files only; it never imports the simulation.

The readers live in ``model.files`` (the low layer every command shares); this module is
analysis's name for them.
"""

from __future__ import annotations

from model.files import (
    read_decisions,
    read_jsonl,
    read_manifest,
    read_outcomes,
    read_series,
    verify_run,
)

manifest = read_manifest

__all__ = ["manifest", "read_decisions", "read_jsonl", "read_outcomes", "read_series", "verify_run"]
