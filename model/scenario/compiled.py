"""The compiled scenario: what ``compile_document`` returns and the execution layer runs.

Why it keeps the documents as well as the Config: a run records the resolved document (its
manifest recompiles to exactly what ran), and ``--set``, sweeps and ``overrides=`` re-apply
settings to the merged document before levers, with the marks that locate every key.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from model.engine.config import Config
from model.errors import InputError, InputIssue
from model.scenario.format import MAX_HORIZON, MAX_REPLICATES


@dataclass
class Scenario:
    """A validated, resolved scenario ready to simulate."""

    name: str
    title: str
    question: str
    claims: list[str]
    horizon: int
    step_days: float
    start_date: str | None
    seed: int
    replicates: int
    outcomes: list[str]
    config: Config
    resolved: dict[str, Any]  # the merged scenario document (after extends and levers)
    source: str
    chain: list[str] = field(default_factory=list)
    expect: list[Any] = field(default_factory=list)  # scenario.expect.Expectation
    questions: list[Any] = field(default_factory=list)  # scenario.questions.Question
    # the merged document before levers were applied, and where each key was written: what
    # --set, sweeps and ``simulate(..., overrides=)`` re-apply settings to (scenario.settings)
    document: dict[str, Any] | None = field(default=None, repr=False)
    marks: dict = field(default_factory=dict, repr=False)

    @property
    def settings(self) -> dict[str, Any]:
        """The --set / sweep / overrides settings this scenario was compiled with ({} if none)."""
        return dict(self.resolved.get("settings") or {})

    @property
    def digest(self) -> str:
        """Hash of the resolved document: two runs of the same digest simulate the same thing."""
        blob = json.dumps(self.resolved, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:12]

    def with_run_options(
        self,
        replicates: int | None = None,
        seed: int | None = None,
        steps: int | None = None,
        origin: str = "command line",
    ) -> Scenario:
        """A copy with run options applied (they are recorded in the resolved doc).

        The options pass the same checks as the file's ``replicates``, ``seed`` and ``horizon``
        (InputError naming ``origin`` otherwise), so whatever runs can be resumed and rerun.
        Events scheduled after a shorter horizon are dropped from the config and the resolved
        document alike, so that the recorded document compiles to the same run.
        """
        issues = []
        for flag, value, lo, hi in (
            ("replicates", replicates, 1, MAX_REPLICATES),
            ("seed", seed, 0, 2**63 - 1),
            ("steps", steps, 1, MAX_HORIZON),
        ):
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                issues.append(InputIssue(origin, None, None, "", f"--{flag} must be a whole number, found {value!r}"))
            elif not lo <= value <= hi:
                issues.append(InputIssue(origin, None, None, "", f"--{flag} must lie in {lo}..{hi}, found {value}"))
        if issues:
            raise InputError(issues)
        s = copy.copy(self)
        s.resolved = copy.deepcopy(self.resolved)
        s.config = copy.copy(self.config)
        if replicates is not None:
            s.replicates = s.resolved["replicates"] = int(replicates)
        if seed is not None:
            s.seed = s.resolved["seed"] = int(seed)
            s.config.seed = int(seed)
        if steps is not None:
            s.horizon = s.resolved["horizon"] = int(steps)
            s.config.steps = int(steps)
            s.config.events = [e for e in s.config.events if e.step is None or e.step <= steps]
            s.config.changes = [c for c in s.config.changes if c.step <= steps]
            # questions dated after the shorter horizon are dropped, as dated events are
            end = steps * s.step_days
            s.questions = [q for q in self.questions if q.day <= end + 1e-9]
            gone = {q.column for q in self.questions} - {q.column for q in s.questions}
            if gone:
                s.config.outcome_defs = {k: v for k, v in s.config.outcome_defs.items() if k not in gone}
                s.config.marks = [m for m in s.config.marks if m <= end + 1e-9]
                if isinstance(s.resolved.get("questions"), list):
                    s.resolved["questions"] = [q.record() for q in s.questions]
            # numbered events and changes beyond the new horizon leave the recorded document too,
            # so that a manifest recompiles to exactly what ran (dated ones are dropped on compile)
            for key in ("events", "changes"):
                items = s.resolved.get(key)
                if isinstance(items, list):
                    s.resolved[key] = [
                        e
                        for e in items
                        if not (isinstance(e, dict) and isinstance(e.get("at"), int) and e["at"] > steps)
                    ]
        return s
