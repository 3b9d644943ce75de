"""The research bank (docs/research/timeline.yaml, episodes.yaml): shape, balance, dates, and oil answers.

Nothing may be dated after 31 May 2025; every oil question's resolution is recomputed on the stored Brent series.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
RESEARCH = ROOT / "docs" / "research"
SERIES = ROOT / "data" / "brent_daily_2018_2025.csv"
CUTOFF = dt.date(2025, 5, 31)
TAGS = {
    "iran_answer_whether",
    "iran_answer_when",
    "iran_answer_where",
    "us_choice",
    "proxies",
    "russia",
    "gulf",
    "oil_peak",
    "oil_fade",
    "fighting_stops",
}
TARGETS = {"israel", "us_forces", "gulf_states", "shipping", "hormuz", "iraq"}
SOURCE_KINDS = {"history", "public", "series", "claims", "memory"}
CONFIDENCE = {"history", "cited", "series", "memory"}
ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def load(name: str) -> dict[str, Any]:
    with (RESEARCH / name).open() as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="module")
def timeline() -> dict[str, Any]:
    return load("timeline.yaml")


@pytest.fixture(scope="module")
def bank() -> dict[str, Any]:
    return load("episodes.yaml")


@pytest.fixture(scope="module")
def questions(bank: dict[str, Any]) -> list[dict[str, Any]]:
    return [q for e in bank["episodes"] for q in e["questions"]]


@pytest.fixture(scope="module")
def brent() -> list[tuple[dt.date, float]]:
    with SERIES.open() as handle:
        lines = [line for line in handle if not line.startswith("#")]
    return [(dt.date.fromisoformat(r["date"]), float(r["close"])) for r in csv.DictReader(lines)]


def as_date(value: object) -> dt.date:
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def walk_dates(node: object) -> list[dt.date]:
    """Every date in a parsed YAML tree: date values and ISO dates written inside strings."""
    found: list[dt.date] = []
    if isinstance(node, dict):
        for value in node.values():
            found += walk_dates(value)
    elif isinstance(node, list):
        for value in node:
            found += walk_dates(value)
    elif isinstance(node, dt.date):
        found.append(node)
    elif isinstance(node, str):
        found += [dt.date(int(y), int(m), int(d)) for y, m, d in ISO.findall(node)]
    return found


@pytest.mark.parametrize("name", ["timeline.yaml", "episodes.yaml"])
def test_nothing_after_may_2025(name: str) -> None:
    text = (RESEARCH / name).read_text()
    dates = walk_dates(yaml.safe_load(text))
    assert dates, name
    assert max(dates) <= CUTOFF, max(dates)
    # no later year written anywhere, not even in prose
    assert not re.search(r"\b20(2[6-9]|[3-9]\d)\b", text)
    assert not re.search(r"\b2025-(0[6-9]|1[0-2])\b", text)


def test_timeline_entries(timeline: dict[str, Any]) -> None:
    entries = timeline["entries"]
    ids = [e["id"] for e in entries]
    assert len(ids) == len(set(ids))
    assert len(entries) >= 40
    for entry in entries:
        assert entry["what"] and entry["sets"]["text"], entry["id"]
        assert isinstance(entry["sets"].get("levels", {}), dict), entry["id"]
        assert entry["source"]["kind"] in SOURCE_KINDS, entry["id"]
        assert entry["confidence"] in CONFIDENCE, entry["id"]
        assert dt.date(2018, 5, 1) <= as_date(entry["date"]) <= CUTOFF, entry["id"]
        if "until" in entry:
            assert as_date(entry["date"]) < as_date(entry["until"]) <= CUTOFF, entry["id"]
        if entry["source"]["kind"] == "history":
            assert any("shared/history.md" in ref for ref in entry["source"]["ref"]), entry["id"]


def test_counts_and_balance(bank: dict[str, Any], questions: list[dict[str, Any]]) -> None:
    assert len(bank["episodes"]) >= 12
    assert len(questions) >= 80
    answers = Counter(q["resolution"] for q in questions)
    assert set(answers) == {"yes", "no"}
    assert answers["yes"] >= len(questions) / 3
    assert answers["no"] >= len(questions) / 3
    by_tag = Counter((q["tag"], q["resolution"]) for q in questions)
    for tag in TAGS:
        assert by_tag[(tag, "yes")] >= 1 and by_tag[(tag, "no")] >= 1, tag


def test_question_fields(questions: list[dict[str, Any]]) -> None:
    ids = [q["id"] for q in questions]
    assert len(ids) == len(set(ids))
    for q in questions:
        assert isinstance(q["resolution"], str) and q["resolution"] in {"yes", "no"}, q["id"]
        assert q["tag"] in TAGS, q["id"]
        assert q["question"].endswith("?"), q["id"]
        assert q["actor"] and q["decision"], q["id"]
        assert q["source"]["kind"] in SOURCE_KINDS and q["source"]["ref"], q["id"]
        assert q["confidence"] in CONFIDENCE, q["id"]
        assert ("target" in q) == (q["tag"] == "iran_answer_where"), q["id"]
        if "target" in q:
            assert q["target"] in TARGETS, q["id"]
        if q["tag"] in {"oil_peak", "oil_fade"}:
            assert "oil" in q and q["source"]["kind"] == "series", q["id"]


def test_episode_dates_and_state(bank: dict[str, Any], timeline: dict[str, Any]) -> None:
    entries = {e["id"]: e for e in timeline["entries"]}
    for episode in bank["episodes"]:
        start, end = as_date(episode["start"]), as_date(episode["end"])
        assert end == start + dt.timedelta(days=episode["horizon_days"]), episode["id"]
        triggers = sorted(as_date(t["date"]) for t in episode["triggers"])
        assert triggers, episode["id"]
        assert 0 < (triggers[0] - start).days <= 10, episode["id"]
        assert triggers[-1] <= end, episode["id"]
        for state_id in episode["state"]:
            entry = entries[state_id]
            assert as_date(entry["date"]) <= start, (episode["id"], state_id)
            if "until" in entry:
                assert as_date(entry["until"]) > start, (episode["id"], state_id)
        for q in episode["questions"]:
            assert q["id"].startswith(episode["id"].split("_")[0] + ".Q"), q["id"]
            assert start < as_date(q["by"]) <= end, q["id"]


def resolve_oil(rule: dict[str, Any], series: list[tuple[dt.date, float]]) -> bool:
    kind = rule["rule"]
    if kind in {"max_close_above", "min_close_below"}:
        lo, hi = as_date(rule["from"]), as_date(rule["to"])
        closes = [p for d, p in series if lo <= d <= hi]
        assert closes
        if kind == "max_close_above":
            return max(closes) > rule["threshold"]
        return min(closes) < rule["threshold"]
    day = as_date(rule["date"])
    if kind in {"close_above_on", "close_below_on"}:
        close = [p for d, p in series if d <= day][-1]
        return close > rule["threshold"] if kind == "close_above_on" else close < rule["threshold"]
    index = next(i for i, (d, _) in enumerate(series) if d == day)
    change = 100.0 * (series[index][1] / series[index - 1][1] - 1.0)
    if kind == "day_change_above":
        return change > rule["pct"]
    assert kind == "day_change_below", kind
    return change < rule["pct"]


def test_oil_questions_match_the_stored_series(
    questions: list[dict[str, Any]], brent: list[tuple[dt.date, float]]
) -> None:
    oil = [q for q in questions if "oil" in q]
    assert len(oil) >= 30
    for q in oil:
        rule = q["oil"]
        last = as_date(rule.get("to", rule.get("date")))
        assert last == as_date(q["by"]), q["id"]
        expected = "yes" if resolve_oil(rule, brent) else "no"
        assert q["resolution"] == expected, q["id"]


def test_timeline_history_lines_exist(timeline: dict[str, Any], bank: dict[str, Any]) -> None:
    history = ROOT.parent / "shared" / "history.md"
    if not history.exists():
        pytest.skip("../shared/history.md is not beside this checkout")
    n_lines = len(history.read_text().splitlines())
    refs = [r for e in timeline["entries"] for r in e["source"]["ref"]]
    refs += [q["source"]["ref"] for e in bank["episodes"] for q in e["questions"]]
    cited = [int(n) for ref in refs for n in re.findall(r"l\.(\d+)", ref)]
    assert cited
    assert all(1 <= n <= n_lines for n in cited)
