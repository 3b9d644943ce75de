"""The app's logic, free of HTTP: settings -> scenario -> ensemble -> what the page shows.

Every function here is pure (or reads only scenario files) so the normal test suite checks
what an analyst sees: which controls a scenario offers, how a control changes the scenario
document, the ensemble's fan-chart data, outcome probabilities with Wilson intervals, the
constraints that bound, paired differences against a pinned reference (common random
numbers: same seed, same replicate ids) with the compare report's verdict words, and one
replicate's narrative and decisions.

Controls change the scenario *document* (the YAML as loaded), never the compiled config, so
that every setting passes the checks of ``entente validate`` and comes out located the same
way, and "Save" can write the document back as a file that ``entente validate`` accepts.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from model.analysis import stats
from model.analysis.headline import Pairing, effect_table, merge_duplicates, statistic
from model.analysis.plotdata import fan, is_discrete, level_names
from model.catalog import load_catalog, reporting
from model.catalog.glossary import label
from model.engine import Result, get_value, simulate
from model.engine.outcomes import OUTCOMES
from model.errors import InputError, InputIssue
from model.scenario import Scenario, load_document, ranges, shipped
from model.scenario.settings import SETTINGS_KEY, apply_settings, compile_with_settings

DEFAULT_REPLICATES = 1000
MAX_REPLICATES = 20_000  # the page must stay interactive; `entente run` has no such ceiling
SOURCE = "app setting"  # the "file" named by errors in a value the page set
SAVED_HEADER = "# Written by `entente app`"  # Save overwrites only files that start with it
MAX_PLOTS = 8  # variables drawn at once: each is an SVG chart drawn on the server
MAX_LINES = 50  # individual replicate lines per chart


def default_variables(spec: dict[str, Any]) -> list[str]:
    """The variables the page draws before the analyst chooses (reporting.yaml's app variables)."""
    return [v for v in reporting.variables(spec, "app") if v in spec["world"]["variables"]]


def main_parameters(spec: dict[str, Any]) -> list[tuple[str, float, float]]:
    """The main parameters offered as sliders on every scenario, with the span a slider covers.

    From reporting.yaml (``app_parameters``); spans lie inside the meaningful ranges of
    model/catalog/ranges.yaml (a test checks it), and typed values outside a span still reach the
    scenario checks and come back as located errors.
    """
    return reporting.app_parameters(spec)


# ------------------------------------------------------------------ state
@dataclass
class State:
    """What the page has chosen: a scenario file and the settings applied on top of it.

    ``levers`` maps lever names to the chosen option, ``lifted`` constraint ids to lifted or
    in force, ``fixed`` parameter paths to the value a slider set (a ``constants:`` entry).
    """

    scenario: str
    levers: dict[str, str] = field(default_factory=dict)
    lifted: dict[str, bool] = field(default_factory=dict)
    fixed: dict[str, float] = field(default_factory=dict)
    replicates: int = DEFAULT_REPLICATES

    @classmethod
    def from_json(cls, data: Any) -> State:
        """A state from the page's JSON; shape errors become located issues, never a traceback."""
        if not isinstance(data, dict) or not isinstance(data.get("scenario"), str) or not data["scenario"].strip():
            raise InputError.one(SOURCE, "choose a scenario (a shipped one or a scenario file)")
        out = cls(scenario=data["scenario"].strip())
        for key, kind in (("levers", str), ("lifted", bool), ("fixed", (int, float))):
            section = data.get(key) or {}
            if not isinstance(section, dict):
                raise InputError.one(SOURCE, f"expected a mapping, found {type(section).__name__}", key=key)
            for k, v in section.items():
                if kind is not bool and isinstance(v, bool) or not isinstance(v, kind):
                    raise InputError.one(SOURCE, f"unexpected value {v!r}", key=f"{key}.{k}")
                getattr(out, key)[str(k)] = v
        reps = data.get("replicates", DEFAULT_REPLICATES)
        if isinstance(reps, bool) or not isinstance(reps, int) or not 2 <= reps <= MAX_REPLICATES:
            raise InputError.one(
                SOURCE,
                f"replicates must be a whole number from 2 to {MAX_REPLICATES}, found {reps!r}",
                key="replicates",
            )
        out.replicates = reps
        return out

    def settings(self) -> dict[str, Any]:
        """The state as dotted settings on the scenario document (what ``--set`` would write)."""
        out: dict[str, Any] = {f"levers.{k}.value": v for k, v in self.levers.items()}
        out.update({f"constraints.{k}.lifted": v for k, v in self.lifted.items()})
        out.update({f"constants.{k}": v for k, v in self.fixed.items()})
        return out


def header(name: str, title: Any, question: Any, chain: list[Any] | None) -> tuple[str, str]:
    """(title, question) as the reports show them: a scenario without a title of its own is "based on" its parent's."""
    from model.analysis.words import scenario_header

    sc = {
        "name": name,
        "title": str(title or name),
        "question": str(question or ""),
        "chain": [str(p) for p in chain or []],
    }
    return scenario_header({"scenario": sc})


def scenario_choices() -> list[dict[str, str]]:
    """The shipped scenarios (path, name, title) for the picker."""
    out = []
    for p in shipped():
        try:
            doc, _, _ = load_document(p)
        except InputError:
            continue
        out.append({"path": str(p), "name": str(doc.get("name", p.stem)), "title": str(doc.get("title", p.stem))})
    return out


def resolve_scenario(text: str) -> str:
    """A shipped scenario's name, or a path to a scenario file, as a path."""
    for p in shipped():
        if text == p.stem:
            return str(p)
    return text


# ------------------------------------------------------------------ settings on the document
def _as_set(settings: dict[str, Any]) -> dict[str, Any]:
    """The page's dotted settings in ``--set`` form (``levers.X.value`` -> ``levers.X``, ``constants.P`` -> ``P``)."""
    out: dict[str, Any] = {}
    for key, value in settings.items():
        if key.startswith("levers.") and key.endswith(".value"):
            key = key.removesuffix(".value")
        elif key.startswith("constants."):
            key = key.removeprefix("constants.")
        out[key] = value
    return out


def build(state: State) -> tuple[Scenario, dict[str, Any]]:
    """Load the state's scenario file, apply its settings, compile; the document too (for Save).

    Raises InputError with the issues ``entente validate`` would print for the same document.
    """
    path = resolve_scenario(state.scenario)
    doc, marks, chain = load_document(path)
    marks = dict(marks)
    # the same code as ``--set``: a bad value is reported naming the page's setting
    settings = _as_set(state.settings())
    sc = compile_with_settings(copy.deepcopy(doc), marks, path, settings, SOURCE)
    doc, _ = apply_settings(doc, marks, settings, SOURCE) if settings else (doc, marks)
    sc.chain = chain
    # a scenario file records its settings as constants and lever values, not as `settings:`
    saved = {k: v for k, v in doc.items() if k != SETTINGS_KEY}
    return sc.with_run_options(replicates=state.replicates, origin=SOURCE), saved


# ------------------------------------------------------------------ controls
def _param_label(spec: dict[str, Any], path: str) -> tuple[str, str, str]:
    """(label, unit, help) of a parameter path, from the glossary and the catalog's docs."""
    parts = path.split(".")
    head = parts[0]
    if head == "world":
        d = spec["world"]["parameters"][parts[1]]
        help_ = d.get("doc") or d.get("assumption") or ""
        text = label(spec, "parameter", parts[1])
        return text[:1].upper() + text[1:], str(d.get("unit", "")), help_
    if head == "initial":
        var = ".".join(parts[1:])
        d = spec["world"]["variables"][var]
        return f"{label(spec, 'variable', var)} at the start", str(d.get("unit", "")), d.get("doc", "")
    if head == "relations":
        a, b = parts[1].split("-", 1)
        return f"Relation {label(spec, 'actor', a)}-{label(spec, 'actor', b)}", "-1 hostile to 1 close", ""
    if head == "constraints":
        con = spec["constraints"][parts[1]]
        return f"{label(spec, 'constraint', parts[1])}: {parts[2]}", "", con.get("text", "")
    if head == "actors":
        who = label(spec, "actor", parts[1])
        if parts[2] == "stances":
            issue = spec["world"].get("issues", {}).get(parts[3], {})
            return f"{who}'s stance: {parts[3].replace('_', ' ')}", "-1 against to 1 for", issue.get("doc", "")
        if parts[2] == "interests":
            return f"{who}'s interest '{parts[3].replace('_', ' ')}': {parts[4]}", "utility weight", ""
        if parts[2] == "response":
            return f"{who}'s response to grievances", "weight", ""
        return f"{who}: {' '.join(parts[2:]).replace('_', ' ')}", "", ""
    return path, "", ""


def _support(d: dict[str, Any]) -> tuple[float, float, float, str]:
    """(low, high, a central value, description) of a distribution."""
    kind = d.get("dist")
    if kind == "choice":
        vals = [float(v) for v in d.get("values", [])]
        return min(vals), max(vals), vals[len(vals) // 2], f"one of {', '.join(f'{v:g}' for v in vals)}"
    lo, hi = float(d["low"]), float(d["high"])
    if kind == "triangular":
        return lo, hi, float(d["mode"]), f"triangular {lo:g}-{hi:g}, mode {float(d['mode']):g}"
    if kind == "normal":
        return lo, hi, float(d["mean"]), f"normal mean {float(d['mean']):g} sd {float(d['sd']):g} in [{lo:g}, {hi:g}]"
    return lo, hi, (lo + hi) / 2, f"uniform {lo:g}-{hi:g}"


def _step(lo: float, hi: float) -> float:
    span = hi - lo
    return float(10 ** (np.floor(np.log10(span)) - 2)) if span > 0 else 0.01


def controls(path: str) -> dict[str, Any]:
    """Everything the page offers for a scenario file: levers, constraints, sliders, title.

    Levers are the scenario's own (``levers:``); every constraint can be lifted or kept;
    sliders cover the main parameters and every sampled uncertainty (the scenario's and the
    catalog's disputed values), each with its range, unit and plain-English label.
    """
    path = resolve_scenario(path)
    doc, _, chain = load_document(path)
    spec = load_catalog()
    levers = []
    for name, lever in (doc.get("levers") or {}).items():
        if isinstance(lever, dict) and isinstance(lever.get("options"), dict) and lever["options"]:
            opts = [str(o) for o in lever["options"]]
            levers.append(
                {
                    "name": str(name),
                    "doc": str(lever.get("doc", "")),
                    "options": opts,
                    "value": lever.get("value", opts[0]),
                }
            )
    own = doc.get("constraints") or {}
    constraints = [
        {
            "id": cid,
            "label": label(spec, "constraint", cid),
            "actor": label(spec, "actor", c["actor"]),
            "kind": c["kind"],
            "claims": c.get("claims", []),
            "text": c.get("text", ""),
            "lifted": bool((own.get(cid) or {}).get("lifted", c.get("lifted", False)))
            if isinstance(own.get(cid, {}), dict)
            else False,
        }
        for cid, c in spec["constraints"].items()
    ]
    constants = doc.get("constants") or {}
    sampled: dict[str, dict[str, Any]] = {}
    for p, d in spec["world"].get("disputed", {}).items():
        if p not in constants:
            sampled[p] = {**d, "origin": "disputed in the articles (" + ", ".join(d.get("claims", [])) + ")"}
    for p, d in (doc.get("uncertainties") or {}).items():
        if isinstance(d, dict) and "dist" in d:
            sampled[str(p)] = {**d, "origin": "the scenario's uncertainty"}
    sliders = []
    for p, lo, hi in main_parameters(spec):
        if p in sampled:
            continue
        value = constants.get(p, get_value(spec, p))
        lab, unit, help_ = _param_label(spec, p)
        sliders.append(_slider(spec, p, lab, unit, help_, lo, hi, float(value), None))
    for p, d in sampled.items():
        try:
            lab, unit, help_ = _param_label(spec, p)
            lo, hi, mid, desc = _support(d)
        except (KeyError, ValueError, TypeError, IndexError):
            continue  # an invalid uncertainty: compiling the scenario reports it
        sliders.append(_slider(spec, p, lab, unit, help_, lo, hi, mid, f"{desc}; {d['origin']}"))
    return {
        "path": path,
        "name": str(doc.get("name", "")),
        **dict(
            zip(
                ("title", "question"),
                header(str(doc.get("name", "")), doc.get("title"), doc.get("question"), chain),
                strict=True,
            )
        ),
        "levers": levers,
        "constraints": constraints,
        "sliders": sliders,
    }


def _slider(
    spec: dict[str, Any], p: str, lab: str, unit: str, help_: str, lo: float, hi: float, value: float, dist: str | None
) -> dict[str, Any]:
    rlo, rhi, reason = ranges.bounds(spec, p)
    return {
        "path": p,
        "label": lab,
        "unit": unit,
        "help": help_,
        "low": lo,
        "high": hi,
        "step": _step(lo, hi),
        "value": float(f"{value:.6g}"),
        "sampled": dist,  # None: a fixed parameter; text: sampled per replicate unless the slider fixes it
        "range": [rlo, rhi],
        "range_reason": reason,
    }


# ------------------------------------------------------------------ the ensemble and what it shows
RELATION = "relation:"  # prefix of the outcome names that record the relations (never shown as outcomes)


def relation_pairs(spec: dict[str, Any]) -> list[tuple[str, str]]:
    """Every pair of actors, once (relations are symmetric), in catalog order."""
    actors = list(spec["actors"])
    return [(a, b) for i, a in enumerate(actors) for b in actors[i + 1 :]]


def run_ensemble(sc: Scenario) -> Result:
    """The scenario's replicates 0..N-1, in memory (the same trajectories `entente run` stores).

    The relations between actors are recorded too (as ``relation:a:b`` outcomes whose series the
    engine keeps in ``Result.extra``), for the page's network of who is aligned with whom; they
    change nothing else (an outcome only reads the state).
    """
    import dataclasses

    defs = {
        f"{RELATION}{a}:{b}": {"expr": f"relation.{a}.{b}", "reduce": "final", "kind": "continuous", "unit": ""}
        for a, b in relation_pairs(sc.config.spec)
    }
    config = dataclasses.replace(sc.config, outcome_defs={**sc.config.outcome_defs, **defs})
    return simulate(config, sc.replicates)


def dates(sc: Scenario, n_points: int) -> list[str]:
    """Calendar date (ISO) of each recorded step, or '' without a start date."""
    if not sc.start_date:
        return [""] * n_points
    start = dt.date.fromisoformat(sc.start_date)
    return [(start + dt.timedelta(days=sc.step_days * i)).isoformat() for i in range(n_points)]


@dataclass
class View:
    """What the page draws (not what is simulated): the variables chosen and how many replicate lines."""

    variables: list[str]
    lines: int = 10

    @classmethod
    def from_json(cls, data: Any, spec: dict[str, Any]) -> View:
        """The page's view; unknown variables and bad counts are located issues, like any setting."""
        data = data if isinstance(data, dict) else {}
        chosen = data.get("plot")
        if chosen is None:
            chosen = default_variables(spec)
        if not isinstance(chosen, list) or not all(isinstance(v, str) for v in chosen):
            raise InputError.one(SOURCE, "expected a list of variable names", key="plot")
        known = spec["world"]["variables"]
        for v in chosen:
            if v not in known:
                from model.errors import did_you_mean

                raise InputError.one(SOURCE, f"unknown variable '{v}'{did_you_mean(v, list(known))}", key="plot")
        if len(chosen) > MAX_PLOTS:
            raise InputError.one(SOURCE, f"choose at most {MAX_PLOTS} variables to plot", key="plot")
        lines = data.get("lines", 10)
        if isinstance(lines, bool) or not isinstance(lines, int) or not 0 <= lines <= MAX_LINES:
            raise InputError.one(SOURCE, f"replicate lines must be a whole number from 0 to {MAX_LINES}", key="lines")
        return cls(list(dict.fromkeys(chosen)), lines)


def plottable(spec: dict[str, Any]) -> list[dict[str, str]]:
    """Every world variable the page can plot: name, label, unit, what its scale means."""
    return [
        {
            "name": v,
            "label": label(spec, "variable", v),
            "unit": str(d.get("unit", "")),
            "words": reporting.scale_words(spec, v),
        }
        for v, d in spec["world"]["variables"].items()
    ]


def line_replicates(matrix: np.ndarray, k: int) -> list[int]:
    """Column indices of ``k`` replicates spread over the distribution of their peak (lowest to highest).

    Lines drawn at evenly spaced quantiles of each replicate's peak show the range an analyst
    would sample by eye, not k random lines that may all sit in the middle; ties resolve to the
    lowest index, so the same data give the same lines.
    """
    n = matrix.shape[1]
    if k <= 0 or n == 0:
        return []
    order = np.argsort(np.nanmax(matrix, axis=0), kind="stable")
    picks = np.unique(np.rint(np.linspace(0, n - 1, min(k, n))).astype(int))
    return [int(order[i]) for i in picks]


def fans(res: Result, sc: Scenario, variables: list[str] | None = None, lines: int = 0) -> dict[str, dict[str, Any]]:
    """Median with 50% and 90% bands of each chosen variable, and ``lines`` individual replicates."""
    spec = sc.config.spec
    out = {}
    for var in variables if variables is not None else default_variables(spec):
        m = res.series[:, :, res.variables.index(var)].astype(float)
        f = fan(m, sc.step_days)
        info = spec["world"]["variables"][var]
        unit = str(info.get("unit", ""))
        picks = line_replicates(m, lines)
        out[var] = {
            "label": label(spec, "variable", var),
            "unit": unit,
            "words": reporting.scale_words(spec, var),
            "weeks": f["x"].tolist(),
            "dates": dates(sc, m.shape[0]),
            **{k: np.round(f[k], 4).tolist() for k in ("median", "p25", "p75", "p5", "p95")},
            "integer": is_discrete(var, unit),
            "levels": level_names(var, spec["world"]),
            "lower": info.get("lower"),
            "upper": info.get("upper"),
            "lines": [{"replicate": int(res.replicates[i]), "values": np.round(m[:, i], 4).tolist()} for i in picks],
        }
    return out


def network(res: Result, sc: Scenario) -> dict[str, Any]:
    """Who is aligned with whom, week by week: the actors on a circle and the median relation of every pair.

    Relations lie in [-1, 1] (hostile to close). Each edge carries, per recorded step, the median
    over the replicates and the share of replicates in which the pair is aligned (relation above
    the catalog's ``aligned`` level, 0.3) or hostile (below -0.3), so the page can draw the network
    at any week without another request.
    """
    spec = sc.config.spec
    actors = list(spec["actors"])
    angle = np.pi / 2 - 2 * np.pi * np.arange(len(actors)) / max(1, len(actors))
    nodes = [
        {"id": a, "label": label(spec, "actor", a), "x": round(float(np.cos(t)), 4), "y": round(float(-np.sin(t)), 4)}
        for a, t in zip(actors, angle, strict=True)
    ]
    edges = []
    for a, b in relation_pairs(spec):
        name = f"relation.{a}.{b}"
        if name not in res.extra_names:
            continue
        m = np.asarray(res.extra[:, :, res.extra_names.index(name)], dtype=float)
        edges.append(
            {
                "a": a,
                "b": b,
                "median": np.round(np.median(m, axis=1), 3).tolist(),
                "aligned": np.round((m > ALIGNED).mean(axis=1), 3).tolist(),
                "hostile": np.round((m < -ALIGNED).mean(axis=1), 3).tolist(),
            }
        )
    n = res.series.shape[0]
    return {"nodes": nodes, "edges": edges, "dates": dates(sc, n), "weeks": (np.arange(n) * sc.step_days / 7).tolist()}


ALIGNED = 0.3  # a relation above this reads "aligned", below its negative "hostile" (the page's legend says so)


def _outcome_meta(sc: Scenario) -> dict[str, dict[str, Any]]:
    return {**OUTCOMES, **sc.config.outcome_defs}


def shown_outcomes(sc: Scenario) -> tuple[list[str], dict[str, str]]:
    """The outcomes the page lists: the scenario's, with the same quantity declared twice merged into one row."""
    return merge_duplicates(list(sc.outcomes), _outcome_meta(sc))


def outcomes_table(res: Result, sc: Scenario) -> list[dict[str, Any]]:
    """One row per outcome, the statistic named: a probability (Wilson 95%) or the mean (95%), and the replicates' spread.

    The same statistics as the comparison report, so the value, the pinned reference and their
    difference are always the same statistic: a probability, or a mean (``statistic``). Continuous
    outcomes also carry the 5-95% range of the replicates (``spread_low``, ``spread_high``).
    """
    meta = _outcome_meta(sc)
    spec = sc.config.spec
    names, aliases = shown_outcomes(sc)
    rows = []
    for name in names:
        d = meta[name]
        kind = d["kind"]
        v = np.asarray(res.outcomes[name], dtype=float)
        row: dict[str, Any] = {
            "outcome": name,
            "also": [a for a, k in aliases.items() if k == name],
            "label": _outcome_label(spec, d, name),
            "kind": kind,
            "unit": str(d.get("unit", "")),
            "words": reporting.outcome_scale(spec, d),
            "probability": kind in ("binary", "event"),
            "statistic": statistic(kind),
            "n": len(v),
        }
        if row["probability"]:
            hit = np.isfinite(v) if kind == "event" else v > 0.5
            p, lo, hi = stats.wilson(float(hit.sum()), len(v))
            row.update(value=p, low=lo, high=hi)
            if kind == "event":
                row["median_week"] = float(np.median(v[hit])) if hit.any() else None
        else:
            m, lo, hi = stats.mean_interval(v)
            q = np.nanquantile(v, [0.05, 0.95]) if np.isfinite(v).any() else [np.nan, np.nan]
            row.update(value=m, low=lo, high=hi, spread_low=float(q[0]), spread_high=float(q[1]))
        rows.append({k: (None if isinstance(x, float) and not np.isfinite(x) else x) for k, x in row.items()})
    return rows


def _outcome_label(spec: dict[str, Any], d: dict[str, Any], name: str) -> str:
    text = str(d.get("label") or label(spec, "outcome", name))
    if d.get("kind") == "event":
        head = text[len("Weeks until ") :] if text.startswith("Weeks until ") else text
        return f"{head[:1].upper()}{head[1:]} by the horizon"
    return text


def bindings(res: Result, sc: Scenario) -> list[dict[str, Any]]:
    """The constraints that bound in the ensemble: share of replicates, mean weeks bound, claims.

    The engine records, per step, replicate and decision unit, a bitmask of the constraints
    that bound that decision (bit i = ``res.constraint_ids[i]``).
    """
    spec = sc.config.spec
    out = []
    weeks_per_step = sc.step_days / 7.0
    for i, cid in enumerate(res.constraint_ids):
        hit = ((res.bound >> i) & 1).astype(bool).any(axis=2)  # (T, R)
        ever = hit.any(axis=0)
        if not ever.any():
            continue
        c = spec["constraints"][cid]
        first = np.argmax(hit, axis=0)
        out.append(
            {
                "constraint": cid,
                "label": label(spec, "constraint", cid),
                "actor": label(spec, "actor", c["actor"]),
                "kind": c["kind"],
                "claims": list(c.get("claims", [])),
                "text": c.get("text", ""),
                "share": float(ever.mean()),
                "mean_weeks": float(hit.sum(axis=0).mean() * weeks_per_step),
                "median_first_week": float(np.median((first[ever] + 1) * weeks_per_step)),
            }
        )
    out.sort(key=lambda r: (-r["share"], r["constraint"]))
    return out


def differences(ref: Result, res: Result, sc: Scenario) -> list[dict[str, Any]]:
    """Differences (current minus reference) of every outcome shown, with the comparison report's statistics.

    Both ensembles share seed and replicate ids (the caller checks), so replicate k of each saw
    the same random numbers. The reference and the current setting get the same statistic as
    their difference (a probability, or a mean); intervals are simultaneous 95% intervals over
    the outcomes shown (Bonferroni), Newcombe's paired score interval for probabilities (never
    beyond +/-100 points) and the normal interval of the paired differences for means; the
    verdict is the compare report's.
    """
    meta = _outcome_meta(sc)
    spec = sc.config.spec
    names = [n for n in shown_outcomes(sc)[0] if n in ref.outcomes and n in res.outcomes]
    reps = np.asarray(res.replicates)
    pairing = Pairing(True, reps, {"reference": len(reps), "current": len(reps)}, "",
                      {"reference": ref.outcomes | {"replicate": reps}, "current": res.outcomes | {"replicate": reps}})  # fmt: skip
    rows, z = effect_table(pairing, "reference", names, meta)
    out = []
    for r in rows:
        if r["scenario"] != "current":
            continue
        d = meta[r["outcome"]]
        clean = {k: (None if isinstance(x, float) and not np.isfinite(x) else x) for k, x in r.items()}
        out.append(
            {
                **clean,
                "label": _outcome_label(spec, d, r["outcome"]),
                "probability": r["kind"] in ("binary", "event"),
                "reference": clean["reference_value"],
                "current": clean["value"],
                "mean": clean.get("diff"),
                "z": z,
                "family": len(names),
            }
        )
    return out


def comparable(ref: Scenario, sc: Scenario) -> str | None:
    """Why a pinned reference cannot be paired with the current setting, or None if it can."""
    if ref.seed != sc.seed:
        return f"the reference was pinned with seed {ref.seed}, the current setting has seed {sc.seed}; pin again"
    if ref.replicates != sc.replicates:
        return f"the reference has {ref.replicates} replicates, the current setting {sc.replicates}; pin again"
    if ref.horizon != sc.horizon or ref.step_days != sc.step_days:
        return "the reference has another horizon or step length; pin again"
    return None


# ------------------------------------------------------------------ one replicate
PICKS = ("worst", "median", "best")


def pick_default(sc: Scenario) -> str:
    """The outcome replicates are picked by unless the analyst chooses another (reporting.yaml)."""
    names = shown_outcomes(sc)[0]
    by = reporting.pick_by(sc.config.spec)
    return by if by in names else (names[0] if names else by)


def pick(res: Result, how: str | int, by: str) -> int:
    """A replicate id: ``worst`` (highest value of ``by``), ``median``, ``best`` (lowest), or a number.

    The same rule as ``entente explain --pick`` (ties: the lowest replicate id).
    """
    n = len(res.replicates)
    if isinstance(how, int) and not isinstance(how, bool):
        if not 0 <= how < n:
            raise InputError.one(SOURCE, f"replicate must lie in 0..{n - 1}, found {how}", key="replicate")
        return int(res.replicates[how])
    if how not in PICKS:
        raise InputError.one(SOURCE, f"pick worst, median, best or a replicate number, found {how!r}", key="replicate")
    if by not in res.outcomes:
        raise InputError.one(SOURCE, f"unknown outcome '{by}'", key="by")
    v = np.asarray(res.outcomes[by], dtype=float)
    if not np.isfinite(v).any():
        return int(res.replicates[0])
    if how == "worst":
        i = int(np.nanargmax(v))
    elif how == "best":
        i = int(np.nanargmin(v))
    else:
        med = float(np.nanmedian(v))
        i = int(np.nanargmin(np.abs(v - med)))
    return int(res.replicates[i])


def replicate_story(sc: Scenario, res: Result, replicate: int) -> dict[str, Any]:
    """One replicate re-simulated alone (bit for bit): its narrative and its decisions.

    Uses the machinery of ``entente narrate`` and ``entente explain`` on the scenario's data
    dictionary (what a run folder's manifest holds), so the page tells what the commands tell.
    """
    from model.execution import dictionary
    from model.explain.explain import Replayed, describe
    from model.explain.narrative import narrate
    from model.explain.records import decision_records

    records, alone = decision_records(sc.config, replicate)
    idx = int(np.flatnonzero(res.replicates == replicate)[0])
    same = bool(np.array_equal(alone.series[:, 0, :], res.series[:, idx, :]))
    meta = {**dictionary(sc), "step_days": sc.step_days, "start_date": sc.start_date, "scenario": {"name": sc.name}}
    values = {k: _finite(res.outcomes[k][idx]) for k in sc.outcomes if k in res.outcomes}
    keys = list(records[0]["state"]) if records else []
    final = {k: float(alone.series[-1, 0, alone.variables.index(k)]) for k in keys}
    return {
        "replicate": replicate,
        "matches_ensemble": same,
        "outcomes": values,
        "narrative": narrate(records, meta, replicate, final),
        "decisions": describe(Replayed(records, meta, alone, sc.config.spec)),
    }


def _finite(x: Any) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None


# ------------------------------------------------------------------ save and run
def scenario_yaml(doc: dict[str, Any], state: State, name: str | None = None) -> str:
    """The current setting as a scenario file that ``entente validate`` accepts.

    It is the scenario document as loaded (``extends`` already merged in, so the file stands
    alone) with the page's settings applied, under a new name.
    """
    import yaml

    out = copy.deepcopy(doc)
    out.pop("extends", None)
    if name:
        out["name"] = name
    out["replicates"] = state.replicates
    head = [
        f"{SAVED_HEADER} from {state.scenario}.",
        "# Settings chosen in the app:" if state.settings() else "# No settings changed in the app.",
        *[f"#   {k}: {v}" for k, v in state.settings().items()],
        f"# Reproduce: entente run {name or out.get('name', 'scenario')}.yaml",
    ]
    body = yaml.safe_dump(_plain(out), sort_keys=False, allow_unicode=True, width=110)
    return "\n".join(head) + "\n" + body


def _plain(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x]
    if isinstance(x, dt.date):
        return x.isoformat()
    return x


def safe_name(text: str) -> str:
    """A scenario name from what the user typed: letters, digits, _ and -, at most 80."""
    cleaned = "".join(ch if ch.isalnum() and ch.isascii() or ch in "_-" else "_" for ch in text.strip())[:80]
    if not cleaned.strip("_-"):
        raise InputError(
            [InputIssue(SOURCE, None, None, "name", "give the scenario a name (letters, digits, _ and -)")]
        )
    return cleaned


def save_path(folder: Path, name: str) -> Path:
    """Where Save writes ``name``: ``<folder>/<name>.yaml``, never outside the folder."""
    return Path(folder) / f"{safe_name(name)}.yaml"
