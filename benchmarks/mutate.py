"""Mutation check: does the test suite catch an engine that is wrong? (issues 10 and 20)

Not a test. Each mutation is a textual replacement in the engine or catalog source; it is
applied to a fresh copy of the repository in a temporary folder, and the semantic test files
run there (``PYTHONPATH`` set to the copy). A mutation is *caught* when a test that passes on
the unmutated copy fails. A mutation whose text is no longer in the source is reported as
stale (the script then exits non-zero too: update the mutation to the new source).

Usage (from the repository root)::

    python benchmarks/mutate.py              # every mutation, two at a time
    python benchmarks/mutate.py -k cohesion  # the mutations whose name contains "cohesion"
    python benchmarks/mutate.py --all        # run every test per mutation and count the failures
    python benchmarks/mutate.py --rev HEAD   # the last commit rather than the working tree
    python benchmarks/mutate.py --list

The slow JSON-schema test of test_scenarios.py is deselected: no engine mutation reaches it.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = [
    "tests/test_semantics.py",
    "tests/test_engine.py",
    "tests/test_steplength.py",
    "tests/test_scenarios.py",
    "tests/test_mechanisms.py",
    "tests/test_score.py",
]
DESELECT = ["tests/test_scenarios.py::test_every_shipped_scenario_satisfies_the_json_schema"]
WORLD = "model/catalog/world.yaml"
MODEL = "model/engine/model.py"
CORE = "model/engine/core.py"
CONFIG = "model/engine/config.py"
OUTCOMES = "model/engine/outcomes.py"
SCORE = "model/analysis/score.py"
TABLES = "model/engine/tables.py"
ACTORS = "model/catalog/actors.yaml"
CONSTRAINTS = "model/catalog/constraints.yaml"


PLUGIN = """
from hypothesis import Phase, settings


def pytest_configure(config):
    settings.register_profile("mutate", phases=[Phase.explicit, Phase.reuse, Phase.generate])
    settings.load_profile("mutate")
"""


@dataclass(frozen=True)
class Mutation:
    name: str
    doc: str
    edits: tuple[tuple[str, str, str], ...]  # (file, old text, new text): every occurrence is replaced
    listed: bool = False  # one of the mutations an issue lists (issue 10 or 20: must be caught)


MUTATIONS = [
    # --- kept from the first engine (the catalog text they change is unchanged)
    Mutation(
        "interception_from_iran_missiles",
        "interception drawn from Iran's missile stock instead of the defender's interceptors",
        ((WORLD, "defenders: {israel: israel.interceptors}", "defenders: {israel: iran.missiles}"),),
        True,
    ),
    Mutation(
        "cohesion_disappointment_sign",
        "the sign of cohesion disappointment flipped (world.yaml cohesion rate)",
        ((WORLD, "- {cohesion_disappointment} * max(", "+ {cohesion_disappointment} * max("),),
        True,
    ),
    # --- the survivors issue 20 lists, on the v2 engine (model/engine/core.py and model.py)
    Mutation(
        "peak_interest_not_squared",
        "the peak-interest utility without its squared distance",
        (
            (
                CORE,
                "return -w / b**2 * (2.0 * (x - a) * d + d * d)",
                "return -w / b * (np.abs(x + d - a) - np.abs(x - a))",
            ),
        ),
        True,
    ),
    Mutation(
        "stance_self_and_target_swapped",
        "an action's own stance effect lands on its target",
        ((MODEL, "idx = ((P.ri[ssel] * A + P.a[ssel]) * S)", "idx = ((P.ri[ssel] * A + P.tt[ssel]) * S)"),),
        True,
    ),
    Mutation(
        "grievance_added_before_discharge",
        "a step's new grievance is added before the answers settle the old one",
        (
            (
                MODEL,
                "        for ledger, new in ((gflat, dgr), (aflat, dga)):\n"
                "            if new is not None:\n"
                "                key = np.flatnonzero(new)\n"
                "                ledger[gidx[key // (A * A)] + key % (A * A)] += new[key]\n",
                "",
            ),
            (
                MODEL,
                "        if dis is not None:\n            key = np.flatnonzero(dis)\n",
                "        for ledger, new in ((gflat, dgr), (aflat, dga)):\n"
                "            if new is not None:\n"
                "                kk = np.flatnonzero(new)\n"
                "                ledger[gidx[kk // (A * A)] + kk % (A * A)] += new[kk]\n"
                "        if dis is not None:\n            key = np.flatnonzero(dis)\n",
            ),
        ),
        True,
    ),
    Mutation(
        "provocation_discount_batch_max",
        "the provocation discount read as the batch maximum",
        (
            (
                MODEL,
                'dp = core.take_rows(self.tables.params.world("provocation_discount"), P.rows)',
                'dp = np.max(core.take_rows(self.tables.params.world("provocation_discount"), P.rows))',
            ),
        ),
        True,
    ),
    Mutation(
        "tremble_ignores_max_rung",
        "a tremble may pick any feasible option, whatever its rung",
        ((CORE, "feas = ok[r, cs] & (t.rung[cs][None, :] <= capr)", "feas = ok[r, cs]"),),
        True,
    ),
    Mutation(
        "triangular_mode_mirrored",
        "the triangular distribution's mode mirrored",
        (
            (
                CONFIG,
                "c = (mode - lo) / (hi - lo) if hi > lo else 0.5",
                "c = (hi - mode) / (hi - lo) if hi > lo else 0.5",
            ),
        ),
        True,
    ),
    # --- the decision core and this round's mechanisms
    Mutation(
        "answers_not_proportionate",
        "an answer is worth the whole grievance, not at most its own weight",
        ((CORE, "Gm = np.minimum(G, t.answers[rc])", "Gm = G"),),
    ),
    Mutation(
        "affinity_not_squared",
        "friends are aggrieved on another's behalf in proportion to affinity, not its square",
        ((MODEL, "np.square(gg, out=gg)", "pass"),),
    ),
    Mutation(
        "reluctance_not_waived",
        "the escalation reluctance ignores the grievance an act answers",
        ((CORE, "cost[:, hit] *= 1.0 - np.where(t.resp[rc][r] > 0, owed, 0.0)", "cost[:, hit] *= 1.0"),),
    ),
    Mutation(
        "reluctance_for_armed_groups",
        "the escalation reluctance charged to armed groups that are not states",
        (
            (
                CORE,
                "self._state_rungs = np.where(self.t.rung >= line, self.t.rung / 9.0, 0.0) * is_state[self.t.actor_of]",
                "self._state_rungs = np.where(self.t.rung >= line, self.t.rung / 9.0, 0.0)",
            ),
        ),
    ),
    Mutation(
        "status_quo_on_every_option",
        "the status quo's weight added to every option instead of holding",
        ((CORE, "U[:, t.hold] += col(sq) if np.ndim(sq) else sq", "U += col(sq) if np.ndim(sq) else sq"),),
    ),
    Mutation(
        "dilution_counts_hold",
        "option dilution counts holding among a unit's actions",
        ((CORE, "            ok[t.hold] = False\n", ""),),
    ),
    Mutation(
        "grievance_discharge_sign",
        "answering a grievance increases it",
        (
            (
                MODEL,
                "settle = 1.0 - np.minimum(dis[key], 1.0)",
                "settle = 1.0 + np.minimum(dis[key], 1.0)",
            ),
        ),
    ),
    Mutation(
        "peak_includes_start",
        "max outcomes include step 0 (a foregone peak)",
        ((OUTCOMES, "return after.max(axis=0)", "return values.max(axis=0)"),),
    ),
    Mutation(
        "durations_at_step_ends",
        "durations counted from step ends instead of the trapezoid rule",
        ((OUTCOMES, "return (0.5 * (held[:-1] + held[1:])).sum(axis=0)", "return held[1:].sum(axis=0)"),),
    ),
    # --- the scorer
    Mutation(
        "recalibration_shift_sign",
        "the forecast recalibration moves forecasts the wrong way",
        (
            (
                SCORE,
                "out[inner] = (1.0 - hedge) / (1.0 + np.exp(-(shift + slope * z))) + hedge * base",
                "out[inner] = (1.0 - hedge) / (1.0 + np.exp(-(-shift + slope * z))) + hedge * base",
            ),
        ),
    ),
    Mutation(
        "unforced_certainty_stated_raw",
        "an unforced share of 0 or 1 is stated as 0 or 1",
        ((SCORE, "    return (yes + 0.5) / (n + 1)\n", "    return yes / n\n"),),
    ),
    # --- the mechanisms of this round (issue 19: friends' losses, blows alone waiving reluctance, per-target effort)
    Mutation(
        "vicarious_share_ignored",
        "a blow to a friend aggrieves as much as a blow to oneself, whatever vicarious_grievance says",
        ((MODEL, "gg *= vg", "pass"),),
    ),
    Mutation(
        "waiver_from_every_grievance",
        "every grievance waives the reluctance, not only the part left by blows",
        (
            (
                CORE,
                "Ga = np.minimum(pair_take(m.griev_attack, rows, tg[r], a_of[r]), ans)",
                "Ga = np.minimum(pair_take(m.griev, rows, tg[r], a_of[r]), ans)",
            ),
        ),
    ),
    Mutation(
        "attack_ledger_counts_every_act",
        "the attack ledger records the grievance of every act, whatever its rung",
        ((MODEL, 'attack = t.rung[o_] >= float(self.tables.params.world("waiver_rung"))', "attack = t.rung[o_] >= 0"),),
    ),
    Mutation(
        "effort_by_target_ignored",
        "an action's per-target effort is ignored",
        (
            (
                TABLES,
                '(_take(sa, "effort_by_target", {}) or {}).get(t, _take(sa, "effort", 0.0))',
                '_take(sa, "effort", 0.0)',
            ),
        ),
    ),
    Mutation(
        "one_question_family",
        "every question is recalibrated as a question on actors' choices",
        ((SCORE, 'return "choice" if form == "chose" or "count." in str(expr) else "state"', 'return "choice"'),),
    ),
    # --- this round's (2026-12-02): the hedged recalibration and two mechanisms
    Mutation(
        "hedge_toward_one_minus_base",
        "the hedge mixes in 1 - base instead of the family's base rate",
        (
            (
                SCORE,
                "out[inner] = (1.0 - hedge) / (1.0 + np.exp(-(shift + slope * z))) + hedge * base",
                "out[inner] = (1.0 - hedge) / (1.0 + np.exp(-(shift + slope * z))) + hedge * (1.0 - base)",
            ),
        ),
    ),
    Mutation(
        "saudi_price_interest_symmetric",
        "Riyadh's price interest a symmetric peak again (it pumps a high price down)",
        (
            (
                ACTORS,
                "oil_price: {var: brent, kind: below, threshold: 80, weight: 0.02, calibrate: {low: 0.005, high: 0.06, spread: 0.3}",
                "oil_price: {var: brent, kind: peak, target: 82, width: 20, weight: 0.6, calibrate: {low: 0.1, high: 1.5, spread: 0.3}",
            ),
        ),
    ),
    Mutation(
        "hormuz_threat_cost_ignores_squeeze",
        "the Hormuz threat costs its whole weight whatever squeezes Iran",
        (
            (
                CONSTRAINTS,
                'penalty: "{weight} * max(0, 1 - max(0, 1 - iran.exports / {exports_ref}) - us_strike_recent - iran.regime_threat)"',
                'penalty: "{weight}"',
            ),
        ),
    ),
    Mutation(
        "calming_valued_at_declared_points",
        "a calming option weighed at its declared points whatever the escalation level",
        ((CORE, "        if t.esc_var < 0 or not len(cc):", "        if True:"),),
    ),
    Mutation(
        "relations_unclipped",
        "relations left unclipped after a moment's effects (they may leave [-1, 1])",
        ((MODEL, "        np.clip(rel, -1.0, 1.0, out=rel)\n", "\n"),),
        True,
    ),
    Mutation(
        "history_change_a_step_early",
        "a dated change takes effect a step before its date",
        (
            (
                MODEL,
                "return float(day) if day is not None else (int(ch.step) - 1) * self.dt",
                "return float(day) - self.dt if day is not None else (int(ch.step) - 2) * self.dt",
            ),
        ),
        True,
    ),
    Mutation(
        "s400_gate_flipped",
        "the S-400 gate's comparison flipped (S-400s only when the Gulf matters much)",
        (
            (
                CONSTRAINTS,
                'condition: "russia.gulf_stake < {threshold} + {war_relief}',
                'condition: "russia.gulf_stake > {threshold} + {war_relief}',
            ),
        ),
        True,
    ),
    Mutation(
        "russia_oil_revenue_sign",
        "Russia's oil-revenue interest (C50) with its sign flipped",
        (
            (
                ACTORS,
                "oil_revenue: {var: oil_premium, kind: linear, weight: 0.02",
                "oil_revenue: {var: oil_premium, kind: linear, weight: -0.02",
            ),
        ),
        True,
    ),
    # --- 2026-12-02 (third session): who keeps the last word; the maritime track
    Mutation(
        "last_word_ignored",
        "roles.last_word read but not applied: Iran's answers aggrieve Israel at the discount",
        ((MODEL, "ad = ad * ~self._last_word[t_]", "ad = ad * 1.0"),),
        True,
    ),
    Mutation(
        "last_word_for_the_striker",
        "roles.last_word looked up for the striker instead of the target",
        ((MODEL, "ad = ad * ~self._last_word[t_]", "ad = ad * ~self._last_word[a_]"),),
        True,
    ),
    # --- 2026-12-02 (fourth session): a front at war waives the reluctance; an actor leaving in place
    Mutation(
        "war_waiver_ignored",
        "a front's recent strikes do not waive the escalation reluctance",
        ((CORE, "            cost = self._war_waiver(rows, cols, cost)\n", ""),),
        True,
    ),
    Mutation(
        "war_waiver_wrong_front",
        "the waiver reads every strike's first front instead of its own",
        ((CORE, "cost[:, on] *= 1.0 - share[:, fr[on]]", "cost[:, on] *= 1.0 - share[:, 0:1]"),),
        True,
    ),
    Mutation(
        "leaving_actor_keeps_its_options",
        "an actor leaving by a dated change keeps the options aimed at it",
        ((CORE, "(table.has_t & ~active[table.tsafe]) | ", ""),),
        True,
    ),
    Mutation(
        "bindings_ignore_blocked_events",
        "a constraint that refuses an event is not recorded as binding (only overturned free choices are)",
        ((CORE, "np.flatnonzero(differs[:, u] | blocked[:, u])", "np.flatnonzero(differs[:, u])"),),
    ),
    Mutation(
        "charges_never_subtracted",
        "the fast path finds no option a cost constraint can charge, so cost constraints charge nothing",
        (
            (
                CORE,
                "self._charged = np.unique(np.concatenate(cols)) if cols",
                "self._charged = np.zeros(0, dtype=np.int64) if cols",
            ),
        ),
    ),
]


SNAPSHOT: Path = ROOT  # set by main(): one copy of the working tree that every run starts from


def copy_repo(dest: Path, source: Path | None = None) -> None:
    # the virtualenv (760 MB) and run outputs are not part of the model: the mutants run with the caller's
    # interpreter and PYTHONPATH set to the copy
    ignore = shutil.ignore_patterns(
        ".git", ".venv", "venv", "runs", "__pycache__", "*.egg-info", ".hypothesis", ".pytest_cache", ".ruff_cache"
    )
    shutil.copytree(source or SNAPSHOT, dest, ignore=ignore)


def apply(dest: Path, mutation: Mutation) -> str | None:
    """Apply a mutation to a copy; returns why it cannot be applied, or None."""
    for file, old, new in mutation.edits:
        path = dest / file
        text = path.read_text()
        if old not in text:
            return f"text not found in {file}: {old!r}"
        path.write_text(text.replace(old, new))
    return None


def run_tests(dest: Path, extra: list[str], timeout: float) -> tuple[set[str], str]:
    """Run the test files in a copy; returns the failing test ids and the tail of the output."""
    env = dict(os.environ, PYTHONPATH=str(dest), PYTHONDONTWRITEBYTECODE="1")
    # --runxfail: known engine bugs (strict xfails) fail in the unmutated run and are left out, so a
    # mutation that merely hides one of them is not counted as caught; the plugin turns off shrinking
    (dest / "_mutate_plugin.py").write_text(PLUGIN)
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-n",
        "0",
        "-p",
        "no:cacheprovider",
        "-p",
        "_mutate_plugin",
        "--runxfail",
        "-rfE",
    ]
    cmd += TESTS
    cmd += [f"--deselect={d}" for d in DESELECT] + extra
    try:
        out = subprocess.run(cmd, cwd=dest, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"<timeout>"}, "timeout"
    text = out.stdout + out.stderr
    failed = set(re.findall(r"^(?:FAILED|ERROR) (\S+)", text, flags=re.M))
    if out.returncode not in (0, 1):  # collection error, interrupted, internal error
        failed.add(f"<pytest exit {out.returncode}>")
    return failed, "\n".join(text.strip().splitlines()[-5:])


def baseline(timeout: float) -> set[str]:
    with tempfile.TemporaryDirectory(prefix="entente-mutate-") as tmp:
        dest = Path(tmp) / "repo"
        copy_repo(dest)
        check = subprocess.run(
            [sys.executable, "-c", "import model; print(model.__file__)"],
            cwd=dest,
            env=dict(os.environ, PYTHONPATH=str(dest)),
            capture_output=True,
            text=True,
        )
        if not check.stdout.strip().startswith(str(dest)):
            sys.exit(f"the copy does not shadow the installed package: {check.stdout or check.stderr}")
        failed, _ = run_tests(dest, [], timeout)
    return failed


def mutate(mutation: Mutation, known: set[str], timeout: float, every: bool) -> tuple[Mutation, str, str, float]:
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="entente-mutate-") as tmp:
        dest = Path(tmp) / "repo"
        copy_repo(dest)
        why = apply(dest, mutation)
        if why:
            return mutation, "STALE", why, time.perf_counter() - t0
        # tests that already fail unmutated cannot catch anything: leave them out, stop at the first catch
        extra = ([] if every else ["-x"]) + [f"--deselect={t}" for t in sorted(known) if "::" in t]
        failed, tail = run_tests(dest, extra, timeout)
    status = "caught" if failed else "SURVIVED"
    if every and failed:
        files = sorted({f.split("::")[0] for f in failed})
        detail = f"{len(failed)} failing test(s) in " + ", ".join(files)
    else:
        detail = ", ".join(sorted(failed)) if failed else tail.splitlines()[-1] if tail else ""
    return mutation, status, detail, time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-k", default="", help="only mutations whose name contains this text (several, comma-separated)")
    ap.add_argument("-j", type=int, default=2, help="mutations run in parallel (default 2)")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per test run")
    ap.add_argument("--list", action="store_true", help="list the mutations and exit")
    ap.add_argument("--rev", default="", help="test a git revision (e.g. HEAD) instead of the working tree")
    ap.add_argument("--all", action="store_true", help="run every test per mutation (default: stop at the first catch)")
    args = ap.parse_args()
    keys = [k for k in args.k.split(",") if k] or [""]
    chosen = [m for m in MUTATIONS if any(k in m.name for k in keys)]
    if args.list:
        for m in chosen:
            print(f"{m.name:34s} {'(listed) ' if m.listed else ''}{m.doc}")
        return 0
    t0 = time.perf_counter()
    global SNAPSHOT
    snap = tempfile.TemporaryDirectory(prefix="entente-mutate-snapshot-")
    SNAPSHOT = Path(snap.name) / "repo"
    if args.rev:  # a committed state, e.g. HEAD, whatever the working tree holds
        tar = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--format=tar", args.rev], capture_output=True, check=True
        )
        with tarfile.open(fileobj=io.BytesIO(tar.stdout)) as archive:
            archive.extractall(SNAPSHOT, filter="data")
    else:  # the working tree may change while the mutations run: test one state of it
        copy_repo(SNAPSHOT, ROOT)
    known = baseline(args.timeout)
    print(f"unmutated: {len(known)} failing test(s) left out{': ' + ', '.join(sorted(known)) if known else ''}")
    if any("::" not in k for k in known):
        print("the unmutated suite does not run cleanly; fix that first")
        return 2
    rows = []
    with ThreadPoolExecutor(max_workers=max(1, args.j)) as pool:
        for m, status, detail, secs in pool.map(lambda m: mutate(m, known, args.timeout, args.all), chosen):
            rows.append((m, status))
            print(f"{status:9s} {m.name:34s} {secs:6.1f}s  {'[listed] ' if m.listed else ''}{m.doc}")
            print(f"{'':9s} {'':34s}          {detail}", flush=True)
    snap.cleanup()
    caught = sum(s == "caught" for _, s in rows)
    print(f"\n{caught}/{len(rows)} mutations caught in {time.perf_counter() - t0:.0f}s")
    return 0 if caught == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
