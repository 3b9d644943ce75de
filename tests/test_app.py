"""The app's logic without a browser: settings -> scenario -> ensemble -> figures and verdicts.

Small ensembles (a 12-week fixture, tens of replicates) keep these fast; the browser test is
tests/test_app_e2e.py.
"""

from __future__ import annotations

import http.client
import json
import threading
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from model.analysis import stats
from model.app import logic
from model.app.server import Session, make_server
from model.catalog import load_catalog
from model.errors import InputError
from model.scenario import load_document, load_scenario, ranges, validate

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = str(ROOT / "tests" / "fixtures" / "app_lever.yaml")
N = 40


def state(**kw):
    return logic.State.from_json({"scenario": FIXTURE, "replicates": N, **kw})


@pytest.fixture(scope="module")
def ensembles():
    """The fixture as written, and with its lever pulled (Israel strikes the nuclear sites in week 1)."""
    out = {}
    for key, st in (("wait", state()), ("nuclear", state(levers={"israel_answer": "nuclear_sites"}))):
        sc, doc = logic.build(st)
        out[key] = (sc, doc, logic.run_ensemble(sc))
    return out


def test_state_from_json_refuses_bad_shapes_with_a_located_line():
    with pytest.raises(InputError) as e:
        logic.State.from_json({"scenario": FIXTURE, "replicates": 1})
    assert str(e.value).startswith("app setting: replicates: replicates must be a whole number from 2 to")
    with pytest.raises(InputError) as e:
        logic.State.from_json({"scenario": FIXTURE, "fixed": {"world.temperature": "hot"}})
    assert "fixed.world.temperature" in str(e.value)
    with pytest.raises(InputError):
        logic.State.from_json({"scenario": ""})
    assert state(lifted={"RU_S400_GATE": True}).settings() == {"constraints.RU_S400_GATE.lifted": True}


def test_settings_change_the_document_where_a_file_would():
    from model.scenario.settings import apply_settings

    doc, marks, _ = load_document(FIXTURE)
    doc["uncertainties"] = {"world.tremble": {"dist": "uniform", "low": 0.0, "high": 0.1}}
    settings = {
        "levers.israel_answer.value": "nuclear_sites",
        "constants.world.tremble": 0.02,
        "constraints.RU_S400_GATE.lifted": True,
    }
    out, where = apply_settings(doc, dict(marks), logic._as_set(settings), "app setting")
    assert out["levers"]["israel_answer"]["value"] == "nuclear_sites"
    assert out["constants"] == {"world.tremble": 0.02}
    assert out["uncertainties"] == {}  # the slider's value is the one simulated, not a draw
    assert out["constraints"] == {"RU_S400_GATE": {"lifted": True}}
    assert where[("constants", "world.tremble")][0].startswith("app setting")
    assert doc["levers"]["israel_answer"]["value"] == "wait"  # the loaded document is untouched


def test_a_bad_slider_value_reads_like_entente_validate(tmp_path):
    with pytest.raises(InputError) as e:
        logic.build(state(fixed={"world.temperature": 500}))
    (issue,) = e.value.issues
    f = tmp_path / "bad.yaml"
    f.write_text("version: 1\nname: bad\nconstants:\n  world.temperature: 500\n")
    (expected,) = validate(f)
    assert expected.message.endswith(issue.message) and expected.key == "constants.world.temperature"
    assert str(issue) == f"app setting world.temperature=500: {issue.message}"  # named like --set names it
    with pytest.raises(InputError) as e:  # an unknown lever option is named like in a file
        logic.build(state(levers={"israel_answer": "invade"}))
    assert "app setting levers.israel_answer=invade: unknown option 'invade'" in str(e.value)


def test_a_broken_scenario_file_gives_its_file_line_column(tmp_path):
    f = tmp_path / "broken.yaml"
    f.write_text("version: 1\nname: broken\nhorizon: 0\n")
    with pytest.raises(InputError) as e:
        logic.build(logic.State(scenario=str(f)))
    assert [str(i) for i in e.value.issues] == [str(i) for i in validate(f)]
    assert str(e.value.issues[0]).startswith(f"{f}:3:")


def test_controls_offer_levers_constraints_and_sliders_within_the_catalog_ranges():
    c = logic.controls(FIXTURE)
    assert c["title"] == "Israel's answer as a lever"
    assert c["levers"] == [
        {
            "name": "israel_answer",
            "doc": "What Israel does in the first week.",
            "options": ["wait", "nuclear_sites"],
            "value": "wait",
        }
    ]
    spec = load_catalog()
    assert {x["id"] for x in c["constraints"]} == set(spec["constraints"])
    by_path = {s["path"]: s for s in c["sliders"]}
    for path, lo, hi in logic.main_parameters(spec):
        rlo, rhi, _ = ranges.bounds(spec, path)
        assert (rlo is None or rlo <= lo) and (rhi is None or hi <= rhi), path
    for path, d in spec["world"]["disputed"].items():  # disputed values: sliders over their support
        assert by_path[path]["sampled"].startswith(f"uniform {d['low']:g}-{d['high']:g}")
        assert (by_path[path]["low"], by_path[path]["high"]) == (d["low"], d["high"])
    s = by_path["relations.russia-saudi"]
    assert (s["label"], s["value"], s["sampled"]) == ("Relation Russia-Saudi Arabia", 0.5, None)
    assert all(s["label"] and s["low"] < s["high"] for s in c["sliders"])


def test_fans_have_dates_bands_in_order_and_an_integer_tier(ensembles):
    sc, _, res = ensembles["wait"]
    f = logic.fans(res, sc)
    esc = f["escalation"]
    assert esc["dates"][:2] == ["2024-10-14", "2024-10-21"] and len(esc["dates"]) == sc.horizon + 1
    start = res.series[0, :, res.variables.index("escalation")]  # the state at the start (timeline and record)
    assert esc["median"][0] == pytest.approx(float(np.median(start)), abs=1e-3)  # rounded for the page
    for k in range(len(esc["median"])):
        assert esc["p5"][k] <= esc["p25"][k] <= esc["median"][k] <= esc["p75"][k] <= esc["p95"][k]
    assert f["russia.support_tier"]["integer"] and not f["brent"]["integer"]
    assert f["brent"]["unit"] == "USD/bbl"


def test_outcomes_use_wilson_intervals(ensembles):
    sc, _, res = ensembles["nuclear"]
    rows = {r["outcome"]: r for r in logic.outcomes_table(res, sc)}
    r = rows["nuclear_sites_struck"]  # every replicate: the lever's event
    assert r["value"] == 1.0 and r["probability"]
    assert r["low"] == pytest.approx(N / (N + 1.959963984540054**2), rel=1e-9)  # Wilson at p = 1
    assert rows["peak_escalation"]["label"] == "Peak escalation"


def test_a_pulled_lever_moves_the_ensemble_with_paired_verdicts(ensembles):
    sc0, _, ref = ensembles["wait"]
    sc1, _, res = ensembles["nuclear"]
    assert logic.comparable(sc0, sc1) is None
    d = {r["outcome"]: r for r in logic.differences(ref, res, sc1)}
    # 0 of 40 -> 40 of 40: Newcombe's interval is 1 - sqrt(2) z^2 / (n + z^2) to 1 (never above 100 points),
    # z simultaneous over the outcomes shown (Bonferroni)
    nuc = d["nuclear_sites_struck"]
    z = stats.bonferroni_z(nuc["family"])
    assert nuc["family"] == len(logic.shown_outcomes(sc1)[0]) and nuc["z"] == pytest.approx(z)
    assert (nuc["mean"], nuc["high"]) == (1.0, 1.0)
    assert nuc["low"] == pytest.approx(1 - np.sqrt(2) * z * z / (N + z * z))
    assert nuc["verdict"] == "meaningful" and nuc["statistic"] == "probability"
    # the reference, the current setting and the difference are the same statistic: means of the replicates
    peak = d["peak_escalation"]
    assert peak["statistic"] == "mean"
    assert peak["reference"] == pytest.approx(float(np.mean(ref.outcomes["peak_escalation"])))
    assert peak["current"] - peak["reference"] == pytest.approx(peak["mean"])
    assert all(-1 <= r["low"] <= r["high"] <= 1 for r in d.values() if r["probability"])
    assert d["peak_escalation"]["mean"] > 0.5
    same = logic.differences(ref, ref, sc0)  # a setting against itself: zero, noise
    assert all(r["mean"] in (0.0, None) and r["verdict"] == "noise" for r in same)
    other = logic.build(state(replicates=N + 1))[0]
    assert "pin again" in logic.comparable(sc0, other)


def test_bindings_count_replicates_hand_made():
    spec = load_catalog()
    ids = ["RU_S400_GATE", "RU_GULF_COST"]
    bound = np.zeros((2, 4, 3), dtype=np.int64)  # (steps, replicates, units)
    bound[0, 0, 1] = 0b01  # S400 gate binds replicate 0 in week 1
    bound[1, 0, 2] = 0b11  # and again in week 2, with the Gulf cost
    bound[1, 3, 0] = 0b10  # the Gulf cost binds replicate 3 in week 2
    res = SimpleNamespace(constraint_ids=ids, bound=bound)
    sc = SimpleNamespace(step_days=7.0, config=SimpleNamespace(spec=spec))
    rows = {r["constraint"]: r for r in logic.bindings(res, sc)}
    assert rows["RU_S400_GATE"]["share"] == 0.25 and rows["RU_S400_GATE"]["mean_weeks"] == 0.5
    assert rows["RU_GULF_COST"]["share"] == 0.5 and rows["RU_GULF_COST"]["median_first_week"] == 2.0
    assert rows["RU_GULF_COST"]["claims"] == spec["constraints"]["RU_GULF_COST"]["claims"]


def test_pick_worst_median_best_and_by_number():
    res = SimpleNamespace(replicates=np.arange(5), outcomes={"x": np.array([3.0, 9.0, 1.0, 5.0, np.nan])})
    assert logic.pick(res, "worst", "x") == 1
    assert logic.pick(res, "best", "x") == 2
    assert logic.pick(res, "median", "x") == 0  # median 4.0: 3 and 5 tie, the lower id wins
    assert logic.pick(res, 4, "x") == 4
    with pytest.raises(InputError, match="replicate must lie in 0..4"):
        logic.pick(res, 5, "x")
    with pytest.raises(InputError, match="unknown outcome"):
        logic.pick(res, "worst", "nope")


def test_one_replicate_is_told_as_entente_narrate_and_explain_would(ensembles):
    sc, _, res = ensembles["nuclear"]
    rep = logic.pick(res, "worst", "peak_escalation")
    story = logic.replicate_story(sc, res, rep)
    assert story["matches_ensemble"]
    assert "**Week 1 (21 Oct 2024).**" in story["narrative"]
    assert "Israel strikes the nuclear sites" in story["narrative"]
    assert "Each decision is a logit draw" in story["decisions"]


def test_save_writes_a_file_entente_validate_accepts_and_that_runs_the_same(tmp_path, ensembles):
    st = state(levers={"israel_answer": "nuclear_sites"}, fixed={"world.cohesion_threat_gain": 0.004})
    sc, doc = logic.build(st)
    path = logic.save_path(tmp_path, "my strike/../x")
    assert path.parent == tmp_path and path.name == "my_strike____x.yaml"
    path.write_text(logic.scenario_yaml(doc, st, path.stem))
    assert validate(path) == []
    again = load_scenario(path)
    assert again.name == "my_strike____x" and again.replicates == N
    a, b = logic.run_ensemble(sc), logic.run_ensemble(again)
    for k in ("peak_escalation", "nuclear_sites_struck", "peak_brent"):
        assert np.array_equal(a.outcomes[k], b.outcomes[k], equal_nan=True), k
    with pytest.raises(InputError):
        logic.safe_name("../")


def _post(port, path, body, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json", **(headers or {})})
    r = conn.getresponse()
    return r.status, r.read()


def test_server_answers_json_refuses_foreign_requests_and_never_shows_a_traceback(tmp_path):
    server = make_server(Session(FIXTURE, tmp_path, tmp_path / "runs"), "127.0.0.1", 0)
    port = server.server_address[1]
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/")
        page = conn.getresponse().read().decode()
        assert "<title>entente app</title>" in page
        assert "src=" not in page and "href=" not in page  # nothing fetched: no CDN, no external file
        ok = {"X-Entente": "1"}
        assert _post(port, "/api/update", {"scenario": FIXTURE})[0] == 403  # no custom header
        assert _post(port, "/api/update", {"scenario": FIXTURE}, {**ok, "Host": "evil.example:80"})[0] == 403
        status, body = _post(
            port, "/api/update", {"scenario": FIXTURE, "replicates": N, "fixed": {"world.tremble": 7}}, ok
        )
        out = json.loads(body)
        assert status == 200 and out["errors"][0].startswith("app setting world.tremble=7: 7 is outside")
        status, body = _post(port, "/api/update", {"scenario": FIXTURE, "replicates": N}, ok)
        out = json.loads(body)
        assert "errors" not in out and out["title"] == "Israel's answer as a lever"
        assert out["charts"]["escalation"].startswith("<svg") and "Escalation index" in out["charts"]["escalation"]
        status, body = _post(port, "/api/save", {"state": {"scenario": FIXTURE, "replicates": N}, "name": "saved"}, ok)
        assert json.loads(body)["valid"] and (tmp_path / "saved.yaml").exists()
        (tmp_path / "mine.yaml").write_text("# my own scenario\nname: mine\n")
        status, body = _post(port, "/api/save", {"state": {"scenario": FIXTURE, "replicates": N}, "name": "mine"}, ok)
        assert "was not written by the app" in json.loads(body)["errors"][0]
        assert (tmp_path / "mine.yaml").read_text().startswith("# my own scenario")
        status, body = _post(port, "/api/replicate", {"state": "nonsense"}, ok)
        assert json.loads(body)["errors"] == ["app setting: choose a scenario (a shipped one or a scenario file)"]
        # a request cannot make the app read another file (its content would reach the error message)
        secret = tmp_path.parent / "secret.yaml"
        secret.write_text("root:x:0:0\n")
        for path in ("/etc/passwd", str(secret), "../../etc/passwd"):
            for route, data in (
                ("/api/update", {"scenario": path, "replicates": N}),
                ("/api/controls", {"scenario": path}),
            ):
                status, body = _post(port, route, data, ok)
                errors = json.loads(body)["errors"]
                assert "the app opens shipped scenarios" in errors[0] and b"root:" not in body, (route, path)
    finally:
        server.shutdown()
        server.server_close()


def test_cli_app_refuses_bad_input_before_serving(tmp_path):
    from model.cli import main

    assert main(["app", "--port", "70000"]) == 2
    assert main(["app", str(tmp_path / "missing.yaml"), "--port", "0"]) == 2
    assert main(["app", "--replicates", "1", "--port", "0"]) == 2


def test_run_hands_the_setting_to_the_code_entente_run_uses(tmp_path, monkeypatch):
    from model import workflow

    seen = {}

    def fake_run(sc, out, opts, command):
        seen.update(sc=sc, out=out, command=command)
        return tmp_path / "runs" / "app_lever" / "r1"

    monkeypatch.setattr(workflow, "run_scenario", fake_run)
    session = Session(FIXTURE, tmp_path, tmp_path / "runs")
    out = session.run({"state": {"scenario": FIXTURE, "replicates": N, "levers": {"israel_answer": "nuclear_sites"}}})
    assert out["folder"].endswith("r1") and seen["out"] == tmp_path / "runs"
    assert seen["sc"].replicates == N and seen["sc"].resolved["levers_chosen"] == {"israel_answer": "nuclear_sites"}
    assert seen["command"][:2] == ["entente", "app"]


def test_an_edited_scenario_file_is_simulated_again(tmp_path):
    f = tmp_path / "mine.yaml"
    f.write_text("version: 1\nname: mine\nextends: baseline\nhorizon: 4\n")
    session = Session(str(f), tmp_path, tmp_path / "runs")
    assert session.update({"scenario": str(f), "replicates": N})["horizon"] == 4
    f.write_text("version: 1\nname: mine\nextends: baseline\nhorizon: 5\n")
    assert session.update({"scenario": str(f), "replicates": N})["horizon"] == 5


# ------------------------------------------------------------------ what analysts expect of such a tool
def test_the_view_is_chosen_by_the_page_and_checked_like_a_setting():
    spec = load_catalog()
    v = logic.View.from_json({}, spec)
    assert v.variables == logic.default_variables(spec) and v.lines == 10
    assert logic.View.from_json({"plot": ["cohesion", "brent", "cohesion"], "lines": 0}, spec).variables == [
        "cohesion",
        "brent",
    ]
    with pytest.raises(InputError, match="unknown variable 'brnt'; did you mean 'brent'"):
        logic.View.from_json({"plot": ["brnt"]}, spec)
    with pytest.raises(InputError, match="at most 8"):
        logic.View.from_json({"plot": list(spec["world"]["variables"])[:9]}, spec)
    with pytest.raises(InputError, match="replicate lines"):
        logic.View.from_json({"lines": 51}, spec)
    names = {p["name"] for p in logic.plottable(spec)}
    assert names == set(spec["world"]["variables"])


def test_replicate_lines_span_the_distribution_of_peaks():
    m = np.array([[0, 0, 0, 0, 0], [5, 1, 9, 3, 7]], dtype=float)  # peaks 5, 1, 9, 3, 7
    assert logic.line_replicates(m, 3) == [1, 0, 2]  # lowest, middle, highest peak
    assert logic.line_replicates(m, 10) == [1, 3, 0, 4, 2] and logic.line_replicates(m, 0) == []


def test_fans_carry_the_lines_the_chart_makes_clickable(ensembles):
    from model.app.figures import fan_svg

    sc, _, res = ensembles["wait"]
    f = logic.fans(res, sc, ["escalation"], 4)["escalation"]
    assert len(f["lines"]) == 4 and {line["replicate"] for line in f["lines"]} <= set(res.replicates.tolist())
    assert f["words"].startswith("0 calm")
    svg = fan_svg(f, f)
    assert all(f'id="rep-{line["replicate"]}"' in svg for line in f["lines"]) and "reference: 90% band" in svg


def test_the_network_is_the_median_relation_of_every_pair_week_by_week():
    from types import SimpleNamespace

    spec = load_catalog()
    pairs = logic.relation_pairs(spec)
    names = [f"relation.{a}.{b}" for a, b in pairs]
    extra = np.zeros((2, 3, len(names)))  # (steps + 1, replicates, pairs)
    i = names.index("relation.russia.iran")
    extra[:, :, i] = [[0.1, 0.5, 0.9], [0.2, 0.4, -0.6]]
    res = SimpleNamespace(extra_names=names, extra=extra, series=np.zeros((2, 3, 1)))
    sc = SimpleNamespace(config=SimpleNamespace(spec=spec), start_date="2024-10-14", step_days=7.0)
    net = logic.network(res, sc)
    edge = next(e for e in net["edges"] if (e["a"], e["b"]) == ("russia", "iran"))
    assert edge["median"] == [0.5, 0.2] and edge["aligned"] == [pytest.approx(2 / 3, abs=1e-3), 0.333]
    assert edge["hostile"] == [0.0, 0.333] and net["dates"] == ["2024-10-14", "2024-10-21"]
    assert len(net["nodes"]) == len(spec["actors"]) and all(
        abs(n["x"] ** 2 + n["y"] ** 2 - 1) < 1e-3 for n in net["nodes"]
    )


def test_run_ensemble_records_the_relations_and_nothing_else_changes(ensembles):
    sc, _, res = ensembles["wait"]
    plain = logic.simulate(sc.config, sc.replicates)
    assert np.array_equal(plain.series, res.series) and np.array_equal(plain.choices, res.choices)
    assert (
        f"relation.{logic.relation_pairs(sc.config.spec)[0][0]}.{logic.relation_pairs(sc.config.spec)[0][1]}"
        in res.extra_names
    )


def test_outcomes_name_their_statistic_and_merge_the_same_quantity(ensembles):
    sc, _, res = ensembles["nuclear"]
    rows = {r["outcome"]: r for r in logic.outcomes_table(res, sc)}
    peak = rows["peak_escalation"]
    assert peak["statistic"] == "mean" and peak["value"] == pytest.approx(np.mean(res.outcomes["peak_escalation"]))
    assert peak["low"] < peak["value"] < peak["high"] and peak["spread_low"] <= peak["spread_high"]
    shown, aliases = logic.shown_outcomes(sc)
    assert all(a not in rows for a in aliases) and list(rows) == shown


def test_a_file_without_its_own_title_is_shown_based_on_its_parent(tmp_path):
    f = tmp_path / "mine.yaml"
    f.write_text("version: 1\nname: mine\nextends: baseline\nhorizon: 4\n")
    c = logic.controls(str(f))
    assert c["title"] == 'based on "October 2024: the region waits for Israel\'s answer" (baseline)'
    assert c["question"].startswith("(the question of baseline) Iran fired about 180 missiles")
    out = Session(str(f), tmp_path, tmp_path / "runs").update({"scenario": str(f), "replicates": N})
    assert out["title"] == c["title"]
