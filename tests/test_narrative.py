"""Narratives an analyst can read: a standing move told once with its end, simultaneous moves said to be
simultaneous, "out of character" only for moves the actor's own model found unlikely.

Hand-made decision records (what decisions.jsonl holds) with known stories.
"""

from __future__ import annotations

from model.explain.narrative import narrate, standing_runs

META = {
    "actors": {"usa": {"label": "United States"}, "iran": {"label": "Iran"}, "israel": {"label": "Israel"}},
    "actions": {
        "direct_intervention": {"narrate": "entered a war against {target} with its own forces", "kahn_rung": 12},
        "limited_strike": {"narrate": "struck military targets in {target}", "kahn_rung": 9},
        "agree_ceasefire": {"narrate": "agreed to a ceasefire with {target}", "kahn_rung": 0},
        "warn": {"narrate": "warned {target}", "kahn_rung": 2},
        "hold": {"narrate": "held its position", "kahn_rung": 0},
    },
    "step_days": 7,
    "start_date": "2024-10-14",
    "war_states": ["none", "exchange of strikes", "sustained war", "ceasefire"],
    "variables": {"escalation": {"unit": "index 0-10"}, "brent": {"unit": "USD/bbl"}, "war_state": {"unit": "0 none"}},
}


def rec(step, actor, action, target="none", track="force", **kw):
    state = {"escalation": 4.0 + step / 10, "brent": 78.0, "war_state": kw.pop("war", 1)}
    return {"replicate": 3, "step": step, "actor": actor, "track": track, "idle": False, "action": action,
            "target": target, "forced": False, "event": None, "trembled": False, "probability": 0.5, "bound": [],
            "preferred": None, "event_blocked": False, "state": state, **kw}  # fmt: skip


def test_a_war_fought_week_after_week_is_told_once_with_its_length_and_its_end():
    records = [rec(s, "usa", "direct_intervention", "iran") for s in (2, 3, 4, 5)]
    records += [rec(s, "usa", "hold") for s in (1, 6, 7)]
    records += [rec(s, "iran", "warn", "usa", "diplomacy") for s in range(1, 8)]
    records += [rec(s, "israel", "warn", "iran", "diplomacy") for s in (1, 2)] + [
        rec(3, "israel", "hold", "none", "diplomacy")
    ]
    story = narrate(records, META, 3)
    assert story.count("entered a war against Iran with its own forces") == 2  # the start, and the end's recall
    week2 = next(line for line in story.splitlines() if line.startswith("**Week 2"))
    assert (
        "entered a war against Iran with its own forces — and again every week until week 5, 18 Nov 2024 (4 weeks in all)."
        in week2
    )
    week6 = next(line for line in story.splitlines() if line.startswith("**Week 6"))
    assert (
        "United States stopped: it had entered a war against Iran with its own forces every week since week 2" in week6
    )
    # Iran's weekly warning runs to the horizon: told once, never its end
    assert story.count("Iran warned United States") == 1 and "again every week to the horizon (7 weeks in all)" in story
    assert standing_runs(records, META)[(2, "usa", "force")] == (5, 4)
    # a routine statement repeated once is told once, and its end is not news
    assert "Israel warned Iran — and again the next week." in story and "Israel stopped" not in story


def test_a_strike_and_a_ceasefire_in_the_same_week_are_said_to_be_simultaneous():
    records = [rec(1, "israel", "agree_ceasefire", "iran", "diplomacy"), rec(1, "iran", "limited_strike", "israel")]
    story = narrate(records, META, 3)
    assert "Neither came first: the ceasefire (Israel) and the strike (Iran) were decided at the same moment" in story
    alone = narrate([rec(1, "israel", "agree_ceasefire", "iran", "diplomacy")], META, 3)
    assert "Neither came first" not in alone
    # a ceasefire offered to another party is not this strike's: nothing to say
    other = narrate(
        [rec(1, "israel", "agree_ceasefire", "hezbollah", "diplomacy"), rec(1, "iran", "limited_strike", "israel")],
        META,
        3,
    )
    assert "Neither came first" not in other and "same week" not in other
    # the why is told once; the next week's repeat is a short line
    twice = narrate(
        records
        + [rec(2, "israel", "agree_ceasefire", "iran", "diplomacy"), rec(2, "iran", "limited_strike", "israel")],
        META,
        3,
    )
    assert twice.count("Neither came first") == 1
    assert "Again the ceasefire (Israel) and the strike (Iran) were decided in the same week." in twice


def test_out_of_character_only_for_a_move_its_own_model_found_unlikely():
    routine = narrate([rec(1, "israel", "warn", "iran", "diplomacy", trembled=True, probability=0.62)], META, 3)
    assert "out of character" not in routine and "Israel warned Iran." in routine
    rare = narrate([rec(1, "israel", "limited_strike", "iran", trembled=True, probability=0.01)], META, 3)
    assert (
        "Israel struck military targets in Iran (out of character: its own model gave this move a 1% chance)." in rare
    )


def test_the_state_is_told_at_the_week_end_and_a_change_of_war_state_when_it_happens():
    records = [
        rec(1, "israel", "warn", "iran", "diplomacy", war=1),
        rec(2, "israel", "warn", "hezbollah", "diplomacy", war=3),
    ]
    story = narrate(records, META, 3, final_state={"escalation": 3.0, "brent": 75.0, "war_state": 3})
    week1 = next(line for line in story.splitlines() if line.startswith("**Week 1"))
    # the week's end is the next week's starting state: escalation 4.2, the war state now a ceasefire
    assert "The war state changed to ceasefire." in week1
    assert (
        "By the week's end: Escalation index 4.2 of 10, Brent crude price 78 USD/bbl, Iran-Israel war state: ceasefire."
        in week1
    )
