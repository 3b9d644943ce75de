"""The ``entente`` command line: parses arguments and wires the layers; no logic of its own.

Heavy libraries (Mesa, pandas, matplotlib, pyarrow) are imported inside the commands that
use them, so ``entente --help`` stays fast. Exit codes: 0 success, 2 bad input, 1 anything
else. No traceback reaches the user unless ENTENTE_DEBUG=1.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

EPILOG = {
    "run": """examples:
  entente run scenarios/baseline.yaml
  entente run scenarios/us_joins_strikes.yaml --replicates 5000 --workers 2 --trace 7,42
  entente run scenarios/baseline.yaml --precision 0.01 --max-replicates 50000
  entente run scenarios/baseline.yaml --format pdf
  entente run --resume runs/baseline/.20241014T120000Z-abc1234.partial""",
    "compare": """examples:
  entente compare scenarios/baseline.yaml scenarios/israel_strikes_nuclear.yaml scenarios/us_joins_strikes.yaml
  entente compare runs/baseline/<run> runs/us_joins_strikes/<run> --reference baseline
  entente compare scenarios/baseline.yaml my_strike.yaml --replicates 2000 --format svg

A scenario file whose run already exists under --out (same scenario hash, seed and replicate
count, complete and unaltered) is reused; --fresh runs it again. Run folders with the same seed
are paired on the replicates they share.""",
    "sweep": """examples:
  entente sweep scenarios/us_restrains_israel.yaml --lever us_restraint
  entente sweep scenarios/russia_gulf_priority.yaml --vary actors.russia.interests.ties_saudi.weight=0:2:9
  entente sweep scenarios/baseline.yaml --vary constraints.IL_US_ADVICE.weight=0:3:7 --replicates 500""",
    "validate": "examples:\n  entente validate scenarios/*.yaml",
    "check": "examples:\n  entente check scenarios/history\n  entente check scenarios/history/e16_oct26_after_2024.yaml --replicates 2000",
    "score": """examples:
  entente score scenarios/history
  entente score scenarios/history --controls --replicates 1000
  entente score scenarios/history/e13_april_2024.yaml --seed 7 --quiet

Runs (or reuses, like compare) every scenario that has questions: and scores its probabilities
against what happened: Brier score, log score and Brier skill against the base rate, per episode
and in all, with bootstrap intervals; writes runs/score/<timestamp>-<hash>/ (scorecard.md,
scores.csv, scores.json, reliability.png). A share of exactly 0 or 1 is checked against the
inert and random controls: "by construction" when both give it too; else it is flagged "unforced"
and stated as (k + 1/2) / (n + 1), since n replicates cannot show that something is impossible.
--controls also scores the controls and the constant forecaster beside the model.""",
    "explain": """examples:
  entente explain runs/baseline/<run> --replicate 7381
  entente explain runs/baseline/<run> --pick worst --by peak_escalation --actor russia
  entente explain runs/baseline/<run> --replicate 12 --step 3""",
    "narrate": "examples:\n  entente narrate runs/baseline/<run> --replicate 7381",
    "sensitivity": """examples:
  entente sensitivity scenarios/baseline.yaml --claims --replicates 500
  entente sensitivity scenarios/baseline.yaml --method sobol --samples 256
  entente sensitivity scenarios/baseline.yaml --method morris --outcome peak_brent""",
    "discover": """examples:
  entente discover runs/baseline/<run> --outcome "max_support_tier >= 4"
  entente discover runs/baseline/<run> --outcome "peak_brent > 100\"""",
    "actors": "examples:\n  entente actors\n  entente actors russia",
    "claims": "examples:\n  entente claims\n  entente claims C16",
    "rerun": "examples:\n  entente rerun runs/baseline/<run>",
    "schema": "examples:\n  entente schema > scenario.schema.json",
    "list": "examples:\n  entente list",
    "app": """examples:
  entente app
  entente app scenarios/us_joins_strikes.yaml --port 8800
  entente app my_strike.yaml""",
}


_Subcommands = "argparse._SubParsersAction[argparse.ArgumentParser]"


def _parser() -> argparse.ArgumentParser:
    """The whole command line; each group of commands is added by its own helper, in the order --help lists them."""
    p = argparse.ArgumentParser(
        prog="entente",
        description="Scenario and stance simulation of the Russia-Iran entente and Middle East escalation.",
        epilog="Every behaviour cites the source articles' claims: see `entente claims` and `entente actors`.\n"
        "Exit codes: 0 success, 2 bad input, 1 anything else. ENTENTE_DEBUG=1 shows tracebacks.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    _add_ensemble_commands(sub)
    _add_checking_commands(sub)
    _add_catalog_commands(sub)
    _add_replicate_commands(sub)
    _add_sensitivity_commands(sub)
    _add_app_command(sub)
    _add_rerun_command(sub)
    return p


def _add_command(sub: _Subcommands, name: str, help_: str) -> argparse.ArgumentParser:
    """A subcommand whose --help shows its one-line help as description and its examples (EPILOG) below."""
    return sub.add_parser(
        name,
        help=help_,
        description=help_,
        epilog=EPILOG.get(name),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _run_options(sp: argparse.ArgumentParser) -> None:
    """The options of every command that runs ensembles: what to run more of, where, and how."""
    sp.add_argument("--replicates", type=int, help="number of replicates (default: the scenario's)")
    sp.add_argument("--seed", type=int, help="master seed, 0 <= S < 2^64 (default: the scenario's)")
    sp.add_argument("--steps", type=int, help="horizon in steps, at most 520 (default: the scenario's)")
    sp.add_argument("--out", help="folder under which run folders are created (default: runs)")
    sp.add_argument("--workers", type=int, help="worker processes, 1-256 (default: all cores)")
    sp.add_argument("--chunk-size", type=int, help="replicates per chunk, at least 1 (default: automatic)")
    sp.add_argument(
        "--executor",
        choices=["local", "dask", "dask-local"],
        default="local",
        help="where chunks run (default: local processes)",
    )
    sp.add_argument("--scheduler", help="Dask scheduler address for --executor dask (e.g. tcp://10.0.0.5:8786)")
    sp.add_argument("--quiet", action="store_true", help="no progress bar")


def _set_option(sp: argparse.ArgumentParser) -> None:
    """--set, shared by the commands that run a scenario file, so levers and paths are set one way."""
    sp.add_argument(
        "--set",
        dest="settings",
        action="append",
        metavar="NAME=VALUE",
        help="pick a lever's option (us_restraint=firm) or fix a parameter path (world.temperature=0.1);"
        " repeatable; validated like the file and recorded in the manifest",
    )


def _format_option(sp: argparse.ArgumentParser) -> None:
    """--format, shared by the commands that draw figures."""
    sp.add_argument(
        "--format",
        choices=["png", "svg", "pdf"],
        help="figure format (default png; CSV data beside each)",
    )


def _add_ensemble_commands(sub: _Subcommands) -> None:
    """The commands that simulate ensembles into run folders: run, compare, sweep."""
    sp = _add_command(sub, "run", "Run a scenario as a Monte Carlo ensemble into runs/<scenario>/<timestamp>-<hash>/.")
    sp.add_argument("scenario", nargs="?", help="scenario YAML file")
    _run_options(sp)
    _set_option(sp)
    sp.add_argument("--trace", default="", help="comma-separated replicates whose full decision records to keep")
    sp.add_argument(
        "--precision", type=float, help="add replicates until every reported probability's 95%% interval is within +/-P"
    )
    sp.add_argument("--max-replicates", type=int, help="ceiling for --precision (default: 100000)")
    sp.add_argument("--resume", metavar="FOLDER", help="finish an interrupted run (a .partial folder)")
    _format_option(sp)

    sp = _add_command(
        sub,
        "compare",
        "Run (or read) several scenarios and compare them with paired, common-random-number statistics.",
    )
    sp.add_argument("items", nargs="+", help="scenario files (run first) or completed run folders")
    sp.add_argument("--reference", help="scenario name the others are compared with (default: the first)")
    sp.add_argument(
        "--fresh", action="store_true", help="run every scenario file again even if a matching run exists under --out"
    )
    _format_option(sp)
    _run_options(sp)
    _set_option(sp)

    sp = _add_command(
        sub,
        "sweep",
        "Run a scenario once per option of a lever or value of a parameter (common random numbers) and"
        " report response curves: each outcome against the value, with confidence intervals and paired differences.",
    )
    sp.add_argument("scenario", help="scenario YAML file")
    sp.add_argument("--lever", help="sweep every option of this lever (entente list shows them)")
    sp.add_argument(
        "--vary", action="append", metavar="PATH=LOW:HIGH:N", help="sweep N evenly spaced values of a parameter path"
    )
    sp.add_argument(
        "--fresh", action="store_true", help="run every value again even if a matching run exists under --out"
    )
    _run_options(sp)
    _set_option(sp)


def _add_checking_commands(sub: _Subcommands) -> None:
    """The commands that check scenarios against the format, history's bands and what happened: validate, check, score."""
    sp = _add_command(sub, "validate", "Check scenario files; prints every problem (file:line:col) and exits 2 on any.")
    sp.add_argument("files", nargs="+")

    sp = _add_command(
        sub, "check", "Run scenarios with expect: bands (history as tests); print each figure; exit 1 if a band fails."
    )
    sp.add_argument("files", nargs="+", help="scenario files or folders (e.g. scenarios/history)")
    sp.add_argument("--replicates", type=int, default=None, help="replicates per scenario (default: each file's)")
    sp.add_argument("--quiet", action="store_true")

    sp = _add_command(
        sub,
        "score",
        "Score the model's probabilities for the scenarios' yes/no questions against what happened"
        " (Brier, log score, skill against the base rate, reliability plot).",
    )
    sp.add_argument("files", nargs="+", help="scenario files or folders (e.g. scenarios/history)")
    sp.add_argument("--replicates", type=int, default=500, help="replicates per scenario (default 500)")
    sp.add_argument("--seed", type=int, help="master seed of every run, 0 <= S < 2^64 (default: each scenario's)")
    sp.add_argument("--workers", type=int, help="worker processes, 1-256 (default: all cores)")
    sp.add_argument(
        "--controls",
        action="store_true",
        help="also score the inert, hawk and random controls and the constant forecaster (the base rate) beside the model",
    )
    sp.add_argument("--out", help="folder under which runs and the score folder are written (default: runs)")
    sp.add_argument("--fresh", action="store_true", help="run every scenario again even if a matching run exists")
    sp.add_argument("--quiet", action="store_true", help="no progress lines")


def _add_catalog_commands(sub: _Subcommands) -> None:
    """The commands that show what ships (scenarios, catalog, format) without simulating: list, actors, claims, schema."""
    _add_command(sub, "list", "List the shipped scenarios and the questions they ask.")
    sp = _add_command(
        sub, "actors", "Show actors' interests, stances, stocks and constraints, each with its claim ids."
    )
    sp.add_argument("name", nargs="?")
    sp = _add_command(sub, "claims", "Show the claims ledger and where the model uses each claim.")
    sp.add_argument("id", nargs="?")
    _add_command(sub, "schema", "Print the JSON Schema of the scenario format (for editors that validate YAML).")


def _add_replicate_commands(sub: _Subcommands) -> None:
    """The commands on one replicate of a run (explain, narrate): re-simulated alone, told decision by decision."""
    sp = _add_command(
        sub,
        "explain",
        "Re-simulate one replicate of a run alone and show every decision, alternative and binding constraint.",
    )
    sp.add_argument("run", help="run folder")
    sp.add_argument("--replicate", type=int)
    sp.add_argument("--pick", choices=["worst", "median", "best"], help="pick the replicate by an outcome instead")
    sp.add_argument("--by", default="peak_escalation", help="outcome for --pick (default: peak_escalation)")
    sp.add_argument("--actor", help="only this actor")
    sp.add_argument("--step", type=int, help="only this step")

    sp = _add_command(sub, "narrate", "Tell one replicate of a run as a week-by-week story.")
    sp.add_argument("run", help="run folder")
    sp.add_argument("--replicate", type=int)
    sp.add_argument("--pick", choices=["worst", "median", "best"])
    sp.add_argument("--by", default="peak_escalation")


def _add_sensitivity_commands(sub: _Subcommands) -> None:
    """The commands on what drives the outcomes (sensitivity, discover): claims, uncertainties, regions of inputs."""
    sp = _add_command(
        sub,
        "sensitivity",
        "Sensitivity of outcomes to the claims (switch each off) or to the uncertainties (Morris, Sobol).",
    )
    sp.add_argument("scenario")
    g = sp.add_mutually_exclusive_group(required=True)
    g.add_argument("--claims", action="store_true", help="switch each claim off in turn, paired with the full model")
    g.add_argument(
        "--method", choices=["morris", "sobol"], help="global sensitivity to the scenario's uncertainties (SALib)"
    )
    sp.add_argument("--outcome", action="append", help="outcome(s) to analyse (default: a standard set)")
    sp.add_argument(
        "--samples", type=int, default=128, help="base sample size N for Sobol / trajectories for Morris (default 128)"
    )
    sp.add_argument(
        "--second-order",
        action="store_true",
        help="Sobol: also sample for second-order indices (N(2D+2) runs instead of N(D+2))",
    )
    _run_options(sp)

    sp = _add_command(
        sub, "discover", "Scenario discovery (PRIM): which sampled uncertainties lead to an outcome of interest."
    )
    sp.add_argument("run", help="run folder")
    sp.add_argument("--outcome", required=True, help='a condition on outcomes, e.g. "max_support_tier >= 4"')
    sp.add_argument("--threshold", type=float, default=0.5, help="minimum box density (default 0.5)")


def _add_app_command(sub: _Subcommands) -> None:
    """The local web app (app)."""
    sp = _add_command(
        sub,
        "app",
        "Start a local web app (offline): pull a lever, watch the ensemble move; prints its address, Ctrl-C stops it.",
    )
    sp.add_argument("scenario", nargs="?", default="baseline", help="scenario name or file (default: baseline)")
    sp.add_argument("--port", type=int, default=8765, help="port to listen on, 0 for any free port (default 8765)")
    sp.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, this machine only)")
    sp.add_argument("--replicates", type=int, default=1000, help="replicates per ensemble at start (default 1000)")


def _add_rerun_command(sub: _Subcommands) -> None:
    """Rerun: what a run folder's manifest records, again, into a new folder."""
    sp = _add_command(sub, "rerun", "Run again exactly what a run folder's manifest records, into a new folder.")
    sp.add_argument("run")
    sp.add_argument("--out", help="folder for the new run (default: beside the old one)")
    sp.add_argument("--workers", type=int, help="worker processes, 1-256 (default: as recorded)")
    sp.add_argument("--quiet", action="store_true")


def _own_ctrl_c() -> None:
    """Take Ctrl-C back when the program was started with SIGINT ignored.

    A shell starts background jobs (``entente run ... &``), and some test runners their children,
    with SIGINT ignored; the program would then run on through Ctrl-C sent to its process group
    instead of stopping cleanly with its resume command (exit 130).
    """
    import signal
    import threading

    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``entente`` program."""
    as_program = argv is None  # not called from Python (tests, notebooks): the process is ours
    argv = sys.argv[1:] if argv is None else argv
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return 2 if exc.code not in (0, None) else 0
    if not args.command:
        parser.print_help()
        return 0
    if as_program:
        _own_ctrl_c()
    from model.errors import InputError, RunError

    handler: Callable[[argparse.Namespace], int] = globals()[f"_cmd_{args.command}"]
    try:
        return handler(args)
    except InputError as exc:
        for issue in exc.issues:
            print(issue, file=sys.stderr)
        return 2
    except RunError as exc:
        if sys.stderr.isatty():  # after a progress bar drawn with carriage returns
            print(file=sys.stderr)
        print(f"entente: {exc}", file=sys.stderr)
        return int(getattr(exc, "exit_code", 1))
    except KeyboardInterrupt:
        print("entente: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    except PermissionError as exc:  # a read-only folder or file given by the user: bad input, one line
        if os.environ.get("ENTENTE_DEBUG"):
            raise
        where = exc.filename or "a file"
        print(f"{where}: permission denied ({exc.strerror or exc}); choose a folder entente may write", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - the user gets a sentence, the developer a traceback on request
        if os.environ.get("ENTENTE_DEBUG"):
            raise
        print(
            f"entente: internal error: {type(exc).__name__}: {exc} (set ENTENTE_DEBUG=1 for a traceback)",
            file=sys.stderr,
        )
        return 1


# ------------------------------------------------------------------ commands
def _load(path: str, args: argparse.Namespace | None = None):  # noqa: ANN202
    """A scenario file with the command line's --set settings applied (validated like the file)."""
    from model.scenario.settings import load_with_settings, parse_assignments

    return load_with_settings(path, parse_assignments(getattr(args, "settings", None)))


def _trace(args: argparse.Namespace) -> tuple[int, ...]:
    from model.errors import InputError

    text = getattr(args, "trace", "") or ""
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise InputError.one("command line", f"--trace expects replicate numbers like 7,42, found '{text}'") from None


def _run_opts(args: argparse.Namespace):  # noqa: ANN202
    """The how-to-run options, validated the way the manifest's recorded values are."""
    from model.errors import InputError, InputIssue
    from model.execution import RunOptions, option_issues, runner

    given = {
        "workers": getattr(args, "workers", None),
        "chunk_size": getattr(args, "chunk_size", None),
        "max_replicates": getattr(args, "max_replicates", None),
        "precision": getattr(args, "precision", None),
    }
    issues = option_issues(**given)
    if getattr(args, "executor", "local") == "dask" and not getattr(args, "scheduler", None):
        issues.append(
            InputIssue("command line", None, None, "--executor", "dask needs --scheduler ADDRESS (or use dask-local)")
        )
    if issues:
        raise InputError(issues)
    return RunOptions(
        workers=given["workers"] or 0,
        chunk_size=given["chunk_size"] or 0,
        executor=getattr(args, "executor", "local"),
        scheduler=getattr(args, "scheduler", None),
        trace=_trace(args),
        precision=given["precision"],
        max_replicates=given["max_replicates"] or runner.DEFAULT_MAX_REPLICATES,
        quiet=args.quiet,
        plot_format=getattr(args, "format", "png") or "png",
    )


def _scenario(args: argparse.Namespace, path: str, seed: int | None = None):  # noqa: ANN202
    """A scenario file with the command line's --replicates, --seed and --steps, validated like the file."""
    from model.execution import apply_overrides

    seed = args.seed if seed is None else seed
    return apply_overrides(_load(path, args), args.replicates, seed, args.steps)


def _command() -> list[str]:
    return ["entente", *sys.argv[1:]]


def _out(args: argparse.Namespace) -> Path:
    return Path(args.out or "runs")


def _cmd_run(args: argparse.Namespace) -> int:
    from model import workflow
    from model.errors import InputError
    from model.execution import check_options

    opts = _run_opts(args)
    if args.resume:
        given = [
            name
            for name, v in (
                ("SCENARIO", args.scenario),
                ("--replicates", args.replicates),
                ("--seed", args.seed),
                ("--steps", args.steps),
                ("--out", args.out),
                ("--chunk-size", args.chunk_size),
                ("--trace", args.trace),
                ("--precision", args.precision),
                ("--max-replicates", args.max_replicates),
                ("--set", args.settings),
                ("--format", args.format),
            )
            if v not in (None, "")
        ]
        if given:
            raise InputError.one(
                "command line",
                f"--resume finishes a run as it was started; it takes no {', '.join(given)}"
                " (only --workers, --executor, --scheduler, --quiet)",
            )
        folder = workflow.resume(Path(args.resume), opts)
    else:
        if not args.scenario:
            raise InputError.one("command line", "entente run needs a scenario file (or --resume FOLDER)")
        sc = _scenario(args, args.scenario)
        check_options(opts, sc.replicates)
        folder = workflow.run_scenario(sc, _out(args), opts, _command())
    print(folder)
    print(f"summary: {folder / 'summary.md'}")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from model import workflow
    from model.analysis.compare import compare_folders
    from model.execution import check_options
    from model.scenario.settings import parse_assignments

    opts = _run_opts(args)
    items, reference = workflow.gather(
        args.items,
        parse_assignments(args.settings) or None,
        args.reference,
        args.replicates,
        args.seed,
        args.steps,
        "command line",
    )
    for it in items:  # every setting is checked before the first run starts
        if not isinstance(it, Path):
            check_options(opts, it.replicates)
    workflow.writable(_out(args))
    folders, reused = workflow.prepare_runs(items, _out(args), opts, args.fresh, _command())
    extra = workflow.missing_outcomes(folders)
    cmp = compare_folders(folders, reference, _out(args), opts.plot_format, args.quiet, reused, extra=extra)
    print(cmp.folder)
    print(f"report: {cmp.folder / 'report.html'}")
    print(cmp.summary())
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    from model import workflow
    from model.execution import check_options
    from model.scenario.settings import sweep_axis

    opts = _run_opts(args)
    sc = _scenario(args, args.scenario)
    axis = sweep_axis(sc, args.lever, args.vary)
    check_options(opts, sc.replicates)
    folder = workflow.run_sweep(sc, axis, _out(args), opts, _command(), fresh=args.fresh)
    print(folder)
    print(f"report: {folder / 'report.html'}")
    print((folder / "headline.txt").read_text(encoding="utf-8").rstrip())
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from model.errors import InputError
    from model.scenario import validate

    issues = []
    for f in args.files:
        issues += validate(f)
    if issues:
        raise InputError(issues)
    for f in args.files:
        print(f"ok {f}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from model.errors import InputError
    from model.execution.check import run_check

    if args.replicates is not None and not 1 <= args.replicates <= 1_000_000:
        raise InputError.one("command line", "--replicates: expected a whole number from 1 to 1000000")
    rows, text = run_check(args.files, args.replicates, args.quiet)
    print(text)
    return 0 if all(r.passed for r in rows) else 1


def _cmd_score(args: argparse.Namespace) -> int:
    from model import workflow
    from model.analysis.score import text

    opts = _run_opts(args)
    card = workflow.run_score(
        args.files, _out(args), opts, args.replicates, args.seed, args.controls, args.fresh, _command()
    )
    print(text(card))
    print(f"score folder: {card.folder}")
    print(f"scorecard: {card.folder / 'scorecard.md'}")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from model.scenario import load_scenario, shipped

    for p in shipped():
        sc = load_scenario(p)
        print(f"{sc.name}  ({p})")
        print(textwrap.indent(textwrap.fill(f"{sc.title}. {' '.join(sc.question.split())}", 96), "    "))
        print(f"    claims: {', '.join(sc.claims)}")
        levers = (sc.document or {}).get("levers") or {}
        for name, lever in levers.items():
            chosen = sc.resolved.get("levers_chosen", {}).get(name)
            opts = ", ".join(f"{o}*" if o == chosen else str(o) for o in (lever.get("options") or {}))
            print(f"    lever {name} ({opts}; * the file's choice): --set {name}=OPTION, entente sweep --lever {name}")
    return 0


def _cmd_actors(args: argparse.Namespace) -> int:
    from model.catalog import load_catalog
    from model.errors import InputError, did_you_mean

    spec = load_catalog()
    names = [args.name] if args.name else list(spec["actors"])
    for n in names:
        if n not in spec["actors"] and n.lower() in spec["actors"]:
            n = args.name = names[0] = n.lower()
        if n not in spec["actors"]:
            raise InputError.one("command line", f"unknown actor '{n}'{did_you_mean(n, list(spec['actors']))}")
    for n in names:
        a = spec["actors"][n]
        print(f"{n}: {a['label']}  [{', '.join(a.get('claims', []))}]")
        if not args.name:
            continue
        print("  interests (utility terms over world outcomes):")
        for t, it in a["interests"].items():
            extra = {
                "peak": f" target {it.get('target')} width {it.get('width')}",
                "above": f" above {it.get('threshold')}",
            }.get(it["kind"], "")
            print(
                f"    {t:22s} {it['kind']:6s} {it['var']:26s} weight {it['weight']:<7g}{extra}  [{', '.join(it['claims'])}]"
            )
        r = a["response"]
        print(
            f"  response to grievances: {r['weight']}  [{', '.join(r.get('claims', []))}]{r.get('assumption', '') and ' assumption: ' + r['assumption']}"
        )
        print("  stances:")
        for s, st in a["stances"].items():
            cite = ", ".join(st.get("claims", [])) or "assumption: " + st.get("assumption", "")
            print(f"    {s:24s} {st['value']:+.2f}  [{cite}]")
        stocks = [v for v in spec["world"]["variables"] if v.startswith(f"{n}.")]
        if stocks:
            print("  stocks and state:")
            for v in stocks:
                d = spec["world"]["variables"][v]
                print(f"    {v:26s} {d['initial']:<8g} {d['unit']:28s} [{', '.join(d.get('claims', []))}]")
        cons = [(cid, c) for cid, c in spec["constraints"].items() if c["actor"] == n]
        if cons:
            print("  constraints:")
            for cid, c in cons:
                acts = ", ".join(c["actions"])
                print(f"    {cid:26s} {c['kind']:6s} on {acts}  [{', '.join(c['claims'])}]")
                if c.get("label"):
                    print(f"      ({c['label']})")
                print(f"      {c['text']}")
                if "condition" in c:
                    print(f"      condition: {c['condition']}  params: {c.get('params', {})}")
                if "penalty" in c:
                    print(f"      penalty: {c['penalty']}  params: {c.get('params', {})}")
        opts = [
            f"{act}>{t}" if t != "none" else act
            for act, sa in spec["actions"].items()
            for t in sa.get("takers", {}).get(n, [])
        ]
        print(f"  options ({len(opts)}): {', '.join(opts)}")
    return 0


def _cmd_claims(args: argparse.Namespace) -> int:
    from model.catalog import claim_references, load_catalog

    spec = load_catalog()
    refs = claim_references(spec)
    ids = [_claim_id(args.id, list(spec["claims"]))] if args.id else list(spec["claims"])
    for cid in ids:
        c = spec["claims"][cid]
        print(f"{cid} {c.get('title', '')} [{c['kind']}]")
        print(f"    {c['text']}")
        print(f"    source: {c['source']} — {spec['sources'][c['source']]}")
        if cid in spec["not_modelled"]:
            print(f"    not modelled: {spec['not_modelled'][cid]}")
        else:
            where = refs.get(cid, [])
            shown = where if args.id else where[:4]
            print(f"    used in ({len(where)}): {', '.join(shown)}{' ...' if len(where) > len(shown) else ''}")
    return 0


def _claim_id(given: str, ids: list[str]) -> str:
    """A claim id in any case and with or without its leading zero: c16, C16, c5 -> C05."""
    from model.errors import InputError, did_you_mean

    text = given.strip().upper()
    if text.startswith("C") and text[1:].isdigit():
        text = f"C{int(text[1:]):02d}"
    elif text.isdigit():
        text = f"C{int(text):02d}"
    if text not in ids:
        raise InputError.one(
            "command line", f"unknown claim '{given}' (claims are {ids[0]}-{ids[-1]}){did_you_mean(text, ids)}"
        )
    return text


def _cmd_schema(args: argparse.Namespace) -> int:
    import json

    from model.scenario.schema import json_schema

    print(json.dumps(json_schema(), indent=2))
    return 0


def _pick(run: Path, meta: dict, replicate: int | None, pick: str | None, by: str) -> int:
    from model.analysis.data import read_outcomes
    from model.errors import InputError

    n = meta["replicates"]
    if replicate is not None:
        if not 0 <= replicate < n:
            raise InputError.one("command line", f"--replicate must lie in 0..{n - 1} (the run's replicates)")
        return replicate
    if not pick:
        raise InputError.one("command line", "give --replicate K or --pick worst|median|best")
    from model.errors import did_you_mean

    table = read_outcomes(run)
    if by not in table:
        known = [k for k in table if k not in ("replicate", "seed") and not k.startswith(("sampled:", "event:"))]
        hint = did_you_mean(by, known) or f" (this run's outcomes: {', '.join(known)})"
        raise InputError.one(f"--by {by}", f"unknown outcome '{by}'{hint}")
    import numpy as np

    v = np.asarray(table[by], dtype=float)
    if not np.isfinite(v).any():
        raise InputError.one(
            f"--by {by}",
            f"no replicate has a value for '{by}' (an event outcome is empty where the event never happened);"
            " pick by another outcome",
        )
    if pick == "worst":
        i = int(np.nanargmax(v))
    elif pick == "best":
        i = int(np.nanargmin(v))
    else:
        med = float(np.nanmedian(v))
        i = int(np.nanargmin(np.abs(v - med)))
    return int(table["replicate"][i])


def _run_folder(path: str) -> tuple[Path, dict]:
    """A complete run folder whose files are all as the run wrote them, and its manifest (exit 2 otherwise)."""
    from model.files import verify_run

    return Path(path), verify_run(path)


def _cmd_explain(args: argparse.Namespace) -> int:
    from model.explain.explain import explain

    run, meta = _run_folder(args.run)
    rep = _pick(run, meta, args.replicate, args.pick, args.by)
    print(explain(run, rep, actor=args.actor, step=args.step, meta=meta))
    return 0


def _cmd_narrate(args: argparse.Namespace) -> int:
    from model.explain.explain import narrate_replicate

    run, meta = _run_folder(args.run)
    rep = _pick(run, meta, args.replicate, args.pick, args.by)
    print(narrate_replicate(run, rep, meta))
    return 0


def _cmd_sensitivity(args: argparse.Namespace) -> int:
    from model.errors import InputError
    from model.sensitivity import run_sensitivity

    opts = _run_opts(args)
    if args.samples < 1:
        raise InputError.one("command line", f"--samples must be at least 1, found {args.samples}")
    sc = _scenario(args, args.scenario)
    args.workers = opts.workers
    folder = run_sensitivity(sc, args, _out(args))
    print(folder)
    return 0


def _cmd_discover(args: argparse.Namespace) -> int:
    from model import workflow
    from model.analysis.discover import discover

    run, meta = _run_folder(args.run)
    workflow.check_reproduces(run, meta)  # as explain, narrate and rerun do by rebuilding the scenario
    print(discover(run, args.outcome, args.threshold))
    return 0


def _cmd_rerun(args: argparse.Namespace) -> int:
    from model import workflow
    from model.execution import RunOptions

    opts = _run_opts(args)
    folder = workflow.rerun(
        Path(args.run),
        Path(args.out) if args.out else None,
        RunOptions(workers=opts.workers, quiet=args.quiet),
        _command(),
    )
    print(folder)
    return 0


def _cmd_app(args: argparse.Namespace) -> int:
    from model.app.server import serve
    from model.errors import InputError

    if not 0 <= args.port <= 65535:
        raise InputError.one("command line", f"--port must lie in 0..65535, found {args.port}")
    return serve(args.scenario, args.host, args.port, replicates=args.replicates)
