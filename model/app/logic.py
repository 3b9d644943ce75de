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
from model.analysis.plotdata import fan, outcome_rows
from model.catalog import load_catalog
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
FAN_VARIABLES = ("escalation", "brent", "russia.support_tier")

# The main parameters offered as sliders on every scenario, with the span a slider covers.
# Spans lie inside the meaningful ranges of model/catalog/ranges.yaml (a test checks it);
# typed values outside a span still reach the scenario checks and come back as located errors.
MAIN_PARAMETERS: tuple[tuple[str, float, float], ...] = (
    ("relations.russia-saudi", -1.0, 1.0),
    ("relations.russia-israel", -1.0, 1.0),
    ("actors.russia.stances.support_iran", -1.0, 1.0),
    ("actors.russia.interests.ties_saudi.weight", 0.0, 3.0),
    ("constraints.RU_GULF_COST.weight", 0.0, 5.0),
    ("world.attention_baseline", 0.2, 1.0),
    ("world.brent_base", 50.0, 110.0),
    ("world.temperature", 0.01, 0.2),
    ("initial.escalation", 0.0, 10.0),
)


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
    doc, _, _ = load_document(path)
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
    for p, lo, hi in MAIN_PARAMETERS:
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
        "title": str(doc.get("title", doc.get("name", ""))),
        "question": " ".join(str(doc.get("question", "")).split()),
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
def run_ensemble(sc: Scenario) -> Result:
    """The scenario's replicates 0..N-1, in memory (the same trajectories `entente run` stores)."""
    return simulate(sc.config, sc.replicates)


def dates(sc: Scenario, n_points: int) -> list[str]:
    """Calendar date (ISO) of each recorded step, or '' without a start date."""
    if not sc.start_date:
        return [""] * n_points
    start = dt.date.fromisoformat(sc.start_date)
    return [(start + dt.timedelta(days=sc.step_days * i)).isoformat() for i in range(n_points)]


def fans(res: Result, sc: Scenario) -> dict[str, dict[str, Any]]:
    """Median with 50% and 90% bands of escalation, Brent and Russia's support tier."""
    spec = sc.config.spec
    out = {}
    for var in FAN_VARIABLES:
        m = res.series[:, :, res.variables.index(var)].astype(float)
        f = fan(m, sc.step_days)
        info = spec["world"]["variables"][var]
        out[var] = {
            "label": label(spec, "variable", var),
            "unit": str(info.get("unit", "")),
            "weeks": f["x"].tolist(),
            "dates": dates(sc, m.shape[0]),
            **{k: np.round(f[k], 4).tolist() for k in ("median", "p25", "p75", "p5", "p95")},
            "integer": var == "russia.support_tier",
            "lower": info.get("lower"),
            "upper": info.get("upper"),
        }
    return out


def _outcome_meta(sc: Scenario) -> dict[str, dict[str, Any]]:
    return {**OUTCOMES, **sc.config.outcome_defs}


def outcomes_table(res: Result, sc: Scenario) -> list[dict[str, Any]]:
    """One row per reported outcome: probability with its Wilson interval, or median with 5-95%."""
    meta = _outcome_meta(sc)
    rows = outcome_rows(res.outcomes, sc.outcomes, meta)
    spec = sc.config.spec
    for r in rows:
        name = r["outcome"]
        r["label"] = str(meta[name].get("label") or label(spec, "outcome", name))
        r["probability"] = r["kind"] in ("binary", "event")
        for k, v in list(r.items()):
            if isinstance(v, float) and not np.isfinite(v):
                r[k] = None
    return rows


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


def _paired_values(values: np.ndarray, kind: str) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    return np.isfinite(v).astype(float) if kind == "event" else v


def differences(ref: Result, res: Result, sc: Scenario) -> list[dict[str, Any]]:
    """Paired differences (current minus reference) of every reported outcome, with verdicts.

    Both ensembles must share seed and replicate ids (the caller checks), so replicate k of
    each saw the same random numbers. Probabilities (binary and event outcomes) are compared
    as shares of replicates, the rest as means; the verdict is the compare report's.
    """
    meta = _outcome_meta(sc)
    spec = sc.config.spec
    out = []
    for name in sc.outcomes:
        if name not in ref.outcomes or name not in res.outcomes:
            continue
        kind = meta[name]["kind"]
        a = _paired_values(ref.outcomes[name], kind)
        b = _paired_values(res.outcomes[name], kind)
        d = stats.paired_difference(a, b)
        smallest = float(meta[name].get("smallest", 0.0) or 0.0)
        out.append(
            {
                "outcome": name,
                "label": str(meta[name].get("label") or label(spec, "outcome", name)),
                "kind": kind,
                "probability": kind in ("binary", "event"),
                "unit": str(meta[name].get("unit", "")),
                "reference": float(np.nanmean(a)) if np.isfinite(a).any() else None,
                "current": float(np.nanmean(b)) if np.isfinite(b).any() else None,
                "mean": d.mean if np.isfinite(d.mean) else None,
                "low": d.low if np.isfinite(d.low) else None,
                "high": d.high if np.isfinite(d.high) else None,
                "smallest": smallest,
                "verdict": stats.verdict(d.low, d.high, smallest),
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
    return {
        "replicate": replicate,
        "matches_ensemble": same,
        "outcomes": values,
        "narrative": narrate(records, meta, replicate),
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
