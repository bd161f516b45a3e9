"""Property-based tests (hypothesis) of citation-marker parsing: never crash, claim offsets valid,
markers written after sentences come back attached to them, stripping leaves none."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rag.generate.markers import (
    MARKER,
    markers_in,
    rewrite_markers,
    split_cited_clauses,
    split_claims,
    strip_markers,
    tidy,
)

FUZZ = settings(max_examples=200, deadline=None)
NUMBERS = st.lists(st.integers(1, 99), min_size=1, max_size=4)
# sentence bodies without brackets, digits or terminal punctuation of their own
BODY = st.text(
    st.sampled_from(list("四川省服务业发展成都市集聚区的和 abcxyz")), min_size=1, max_size=30
).filter(str.strip)
STYLES = st.sampled_from(["[{}]", "［{}］", "【{}】", "[ {} ]"])


@FUZZ
@given(st.text(max_size=300))
def test_parsing_arbitrary_text_never_crashes_and_offsets_are_valid(text):
    for claim in split_claims(text):
        assert 0 <= claim.start <= claim.end <= len(text)
        assert MARKER.search(claim.text) is None
        assert all(n >= 0 for n in claim.markers)
    for clause in split_cited_clauses(text):
        assert 0 <= clause.start <= clause.end <= len(text)
        assert MARKER.search(clause.text) is None
    assert MARKER.search(strip_markers(text)) is None
    assert markers_in(rewrite_markers(text, lambda numbers: numbers)) == markers_in(text)
    assert markers_in(rewrite_markers(text, lambda numbers: [])) == []


@FUZZ
@given(NUMBERS, STYLES)
def test_a_marker_round_trips(numbers, style):
    assert markers_in(style.format(", ".join(map(str, numbers)))) == list(dict.fromkeys(numbers))
    assert markers_in("".join(style.format(n) for n in numbers)) == list(dict.fromkeys(numbers))


@FUZZ
@given(
    st.lists(st.tuples(BODY, NUMBERS), min_size=1, max_size=6), STYLES, st.sampled_from(["。", "；", "！"])
)
def test_markers_after_each_sentence_come_back_with_it(claims, style, stop):
    text = "".join(f"{body.strip()}{stop}{''.join(style.format(n) for n in ns)}" for body, ns in claims)
    parsed = split_claims(text)
    assert [c.markers for c in parsed] == [tuple(dict.fromkeys(ns)) for _, ns in claims]
    assert [c.text for c in parsed] == [tidy(f"{body.strip()}{stop}") for body, _ in claims]


@FUZZ
@given(st.lists(st.tuples(BODY, NUMBERS), min_size=1, max_size=6), STYLES)
def test_each_clause_keeps_the_markers_that_close_it(clauses, style):
    text = "".join(f"{body.strip()}{''.join(style.format(n) for n in ns)}，" for body, ns in clauses)
    parsed = split_cited_clauses(text)
    assert [c.markers for c in parsed] == [tuple(dict.fromkeys(ns)) for _, ns in clauses]
    assert [c.text for c in parsed] == [tidy(f"{body.strip()}，") for body, _ in clauses]
