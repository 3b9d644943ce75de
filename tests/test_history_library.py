"""The episode library (scenarios/history, issue 18 item 3): its size, balance, sources, dates and tags.

Every file in scenarios/history is loaded and validated the way `entente validate` does it. The library as a whole
must hold at least 14 episodes and 90 scored questions, with at least a third answered "yes" and a third "no"; every
question names its source; every tag of the research bank (docs/research/episodes.yaml) is asked; nothing is dated
after 31 May 2025. Episodes set their triggers and the state the record gives for their date, never a behavioural
parameter (item 4: one model for every episode). These checks need no simulation.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

from model.scenario import load_document, load_scenario, scenarios_dir

HISTORY = scenarios_dir() / "history"
CUTOFF = dt.date(2025, 5, 31)
MIN_EPISODES = 14
MIN_QUESTIONS = 90
MIN_SHARE = 1 / 3
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
    "israel_choice",
}
# What an episode may write: its identity and calendar, its triggers (events, dated changes of the world's state),
# the state the record gives for its start (initial, relations), its questions and bands. Behavioural parameters
# (actors, world, constants, constraints, uncertainties, levers) belong to the one model every episode shares.
ALLOWED_KEYS = {
    "version",
    "name",
    "title",
    "question",
    "claims",
    "start_date",
    "horizon",
    "step_days",
    "seed",
    "replicates",
    "events",
    "changes",
    "initial",
    "relations",
    "outcomes",
    "expect",
    "questions",
}
FILES = sorted(HISTORY.glob("*.yaml"))


def _date(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


@pytest.fixture(scope="module")
def episodes():
    return [load_scenario(f) for f in FILES]


def test_every_file_loads_and_asks_questions(episodes):
    assert len(FILES) == len(episodes)
    for sc in episodes:
        assert sc.start_date, f"{sc.name}: an episode needs a start date"
        assert sc.questions, f"{sc.name}: an episode needs scored questions"


def test_library_size(episodes):
    assert len(episodes) >= MIN_EPISODES, f"{len(episodes)} episodes, fewer than {MIN_EPISODES}"
    n = sum(len(sc.questions) for sc in episodes)
    assert n >= MIN_QUESTIONS, f"{n} questions, fewer than {MIN_QUESTIONS}"


def test_both_answers_are_well_represented(episodes):
    answers = [q.resolution for sc in episodes for q in sc.questions]
    yes = sum(answers) / len(answers)
    assert yes >= MIN_SHARE, f"only {yes:.0%} of the questions resolved yes"
    assert 1 - yes >= MIN_SHARE, f"only {1 - yes:.0%} of the questions resolved no"


def test_every_question_has_a_source(episodes):
    missing = [f"{sc.name}/{q.id}" for sc in episodes for q in sc.questions if len(q.source.strip()) < 10]
    assert not missing, f"questions without a source: {missing}"


def test_every_research_tag_is_asked(episodes):
    tags = Counter(t for sc in episodes for q in sc.questions for t in q.tags)
    assert set(tags) >= TAGS, f"tags never asked: {sorted(TAGS - set(tags))}"
    untagged = [f"{sc.name}/{q.id}" for sc in episodes for q in sc.questions if not set(q.tags) & TAGS]
    assert not untagged, f"questions without a research tag: {untagged}"


def test_nothing_after_may_2025(episodes):
    late = []
    for sc in episodes:
        start = _date(sc.start_date)
        end = start + dt.timedelta(days=sc.horizon * sc.step_days)
        if end > CUTOFF:
            late.append(f"{sc.name}: its calendar runs to {end}")
        for q in sc.questions:
            for d in (q.after, q.by, q.on):
                if d is not None and _date(d) > CUTOFF:
                    late.append(f"{sc.name}/{q.id}: {d}")
        for i, ev in enumerate(sc.resolved.get("events", [])):
            at = ev.get("at")
            if isinstance(at, dt.date | str) and _date(at) > CUTOFF:
                late.append(f"{sc.name}: events[{i}] at {at}")
        for i, ch in enumerate(sc.resolved.get("changes", [])):
            at = ch.get("at")
            if isinstance(at, dt.date | str) and _date(at) > CUTOFF:
                late.append(f"{sc.name}: changes[{i}] at {at}")
    assert not late, "dated after 31 May 2025:\n" + "\n".join(late)


def test_questions_end_before_the_calendar_does(episodes):
    """A question read on the calendar's last day is never recorded (its state is snapshotted a day later)."""
    bad = []
    for sc in episodes:
        end = _date(sc.start_date) + dt.timedelta(days=sc.horizon * sc.step_days)
        bad += [f"{sc.name}/{q.id}" for q in sc.questions if _date(q.by or q.on) >= end]
    assert not bad, f"questions dated on or after the last day of their calendar: {bad}"


def test_episodes_set_no_behavioural_parameter():
    bad = []
    for f in FILES:
        doc, _, _ = load_document(f)
        bad += [f"{Path(f).name}: {k}" for k in doc if k not in ALLOWED_KEYS]
        assert "extends" not in doc, f"{f.name}: an episode stands alone (no extends)"
    assert not bad, "keys an episode may not set (behavioural parameters are the model's):\n" + "\n".join(bad)


def test_question_ids_are_unique_per_episode(episodes):
    for sc in episodes:
        ids = [q.id for q in sc.questions]
        assert len(ids) == len(set(ids)), sc.name


def test_an_owed_answer_forced_as_a_trigger_is_not_given_twice():
    """e16 forces Israel's answer of 26 October 2024 to Iran's barrage of 1 October. Started four days earlier,
    the model's Israel delivered that answer on its own first and struck Iran twice or more in 75% of runs (the
    record: once); the episode starts the day before (scenarios/history/README.md)."""
    import numpy as np

    from model.engine import simulate

    c = load_scenario(scenarios_dir() / "history" / "e16_oct26_after_2024.yaml").config
    c.outcome_defs = {
        "israel": {"expr": "count.israel.limited_strike.iran + count.israel.strike_nuclear.iran", "reduce": "final"}
    }
    twice = float((np.asarray(simulate(c, 300).outcomes["israel"]) >= 2).mean())
    assert twice < 0.25, twice
