"""entente's own nesting limit, applied to the text before PyYAML reads it.

PyYAML's limits change between releases (6.0.4's libyaml stops at 1,000 levels in its own
words; older releases recurse), so the limit, its position and its message must not depend
on which PyYAML is installed: deep documents never reach the parser at all.
"""

from __future__ import annotations

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import safeyaml
from model.errors import InputError

LIMIT = safeyaml.MAX_DEPTH
MESSAGE = f"nesting is deeper than {LIMIT} levels (entente's limit)"


def flow(depth: int) -> tuple[str, int, int]:
    """A flow sequence nested ``depth`` levels deep (the top mapping is level 1), and where level LIMIT+1 opens."""
    return "a: " + "[" * (depth - 1) + "]" * (depth - 1) + "\n", 1, 3 + LIMIT


def flow_mapping(depth: int) -> tuple[str, int, int]:
    return "a: " + "{b: " * (depth - 1) + "1" + "}" * (depth - 1) + "\n", 1, 4 + 4 * (LIMIT - 1)


def block_mapping(depth: int) -> tuple[str, int, int]:
    return "".join(" " * i + f"k{i}:\n" for i in range(depth - 1)) + " " * (depth - 1) + "v: 1\n", LIMIT + 1, LIMIT + 1


def compact_sequence(depth: int) -> tuple[str, int, int]:
    return "a:\n  " + "- " * (depth - 1) + "x\n", 2, 3 + 2 * (LIMIT - 1)


def indentless_sequence(depth: int) -> tuple[str, int, int]:
    """k0: / - k1: / '  - k2:' ...: every line adds a sequence (at its key's column) and a mapping."""
    keys = (depth - 1) // 2  # line j reaches depth 2j + 1 at its key
    lines = ["k0:"] + [" " * (2 * (j - 1)) + f"- k{j}:" for j in range(1, keys + 1)]
    tail = [" " * (2 * keys) + "- x"] if depth % 2 == 0 else []
    j = LIMIT // 2  # level LIMIT + 1 (65) is line 32's key
    return "\n".join(lines) + "\n" + "\n".join(tail) + "\n", j + 1, 2 * (j - 1) + 3


def block_then_flow(depth: int) -> tuple[str, int, int]:
    half = LIMIT // 2
    head = "".join(" " * i + f"k{i}:\n" for i in range(half))
    rest = depth - half - 1
    return head + " " * half + "v: " + "[" * rest + "]" * rest + "\n", half + 1, half + 4 + (LIMIT - half - 1)


SHAPES = [flow, flow_mapping, block_mapping, compact_sequence, indentless_sequence, block_then_flow]


def composed_depth(node: yaml.Node | None, level: int = 1) -> int:
    """How deep the collections of a composed document nest (the top collection is level 1)."""
    if isinstance(node, yaml.MappingNode):
        return max([level] + [composed_depth(n, level + 1) for pair in node.value for n in pair])
    if isinstance(node, yaml.SequenceNode):
        return max([level] + [composed_depth(n, level + 1) for n in node.value])
    return level - 1


def scanned_depth(text: str) -> int:
    """The depth the pre-scan sees: the smallest limit it lets the text through."""
    for limit in range(100):
        try:
            safeyaml._DepthScan(text, limit).run()
        except safeyaml._TooDeep:
            continue
        return limit
    raise AssertionError("deeper than 100")


@pytest.mark.parametrize("shape", SHAPES, ids=lambda f: f.__name__)
def test_the_limit_is_exact_for_every_kind_of_nesting(shape):
    at_limit, _, _ = shape(LIMIT)
    assert composed_depth(yaml.compose(at_limit, Loader=yaml.SafeLoader)) == LIMIT  # the shapes are what they say
    safeyaml.load_text(at_limit, "s.yaml")  # LIMIT levels: accepted
    over, line, col = shape(LIMIT + 1)
    with pytest.raises(InputError) as err:
        safeyaml.load_text(over, "s.yaml")
    assert [str(i) for i in err.value.issues] == [f"s.yaml:{line}:{col}: {MESSAGE}"]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda f: f.__name__)
def test_deep_documents_never_reach_pyyaml(shape, monkeypatch):
    def parser_must_not_run(text: str) -> list:
        raise AssertionError("PyYAML was given a document deeper than entente's limit")

    monkeypatch.setattr(safeyaml, "_compose", parser_must_not_run)
    text, line, col = shape(1100)  # beyond every PyYAML's own limit (libyaml's is 1,000), under 1 MB
    with pytest.raises(InputError) as err:
        safeyaml.load_text(text, "s.yaml")
    assert [str(i) for i in err.value.issues] == [f"s.yaml:{line}:{col}: {MESSAGE}"]


@pytest.mark.parametrize(
    "text",
    [
        "a: |\n  " + "[" * 200 + "\n  " + "- " * 200 + "\nb: 1\n",  # a block scalar's text
        "a: >-\n    " + "{" * 200 + "\n",
        "a: '" + "[" * 200 + "'\nb: \"" + '{\\"' * 200 + '"\n',  # quoted, with escapes
        "a: 1  # " + "[" * 200 + "\nb: [1, # " + "[" * 200 + "\n  2]\n",  # comments
        "a: plain text " + "[" * 200 + "\n  " + "- " * 200 + "continued\n",  # a multi-line plain scalar
        "a: [don't, " + "'[' , " * 200 + "x]\n",  # an apostrophe inside a plain scalar is not a quote
    ],
    ids=["block-scalar", "folded", "quoted", "comments", "plain", "apostrophe"],
)
def test_brackets_and_dashes_in_text_do_not_count(text):
    data, _ = safeyaml.load_text(text, "s.yaml")
    assert data["a"]
    assert scanned_depth(text) == composed_depth(yaml.compose(text, Loader=yaml.SafeLoader))


_scalars = st.one_of(
    st.text(alphabet="ab -:#[]{}'\"|>&*!?,%@\n\tx", max_size=12),
    st.integers(-9, 9),
    st.none(),
    st.booleans(),
)
_data = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(alphabet="ab -:#[]'\"x", max_size=6), inner, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=_data,
    flow_style=st.sampled_from([None, True, False]),
    indent=st.sampled_from([2, 3, 4]),
    width=st.sampled_from([12, 80, 1000]),
    style=st.sampled_from([None, "|", ">", "'", '"']),
)
def test_the_pre_scan_counts_what_pyyaml_composes(data, flow_style, indent, width, style):
    """Whatever the data and however PyYAML writes it, the pre-scan sees the depth PyYAML builds."""

    class Dumper(yaml.SafeDumper):
        pass

    Dumper.add_representer(
        str, lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", s, style=style if "\n" in s or s else None)
    )
    text = yaml.dump({"k": data}, Dumper=Dumper, default_flow_style=flow_style, indent=indent, width=width)
    assert scanned_depth(text) == composed_depth(yaml.compose(text, Loader=yaml.SafeLoader)), text
