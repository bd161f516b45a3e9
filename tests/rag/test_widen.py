"""Widening a passage by its neighbours: pure joining, then against a real (in-memory) Chroma."""

from dataclasses import replace

from rag.retrieve import Retriever, widen
from rag.types import Passage
from rag.widen import widened

DOCUMENT = "一是加快建设。二是扩大开放。\n\n三是优化环境。四是强化保障。"


def piece(start, end, doc_id="d"):
    return Passage(
        chunk_id=f"{doc_id}:{start}", doc_id=doc_id, text=DOCUMENT[start:end], start=start, end=end
    )


def test_overlapping_and_touching_neighbours_are_joined_at_their_offsets():
    middle = piece(7, 23)
    joined = widened(middle, [piece(0, 14), piece(16, 30)])
    assert (joined.start, joined.end) == (0, 30)
    assert joined.text == DOCUMENT[0:30]
    assert joined.chunk_id == middle.chunk_id


def test_a_small_gap_is_bridged_with_blank_lines_and_offsets_stay_the_documents():
    joined = widened(piece(0, 14), [piece(16, 30)])
    assert joined.text[16 - 0 :] == DOCUMENT[16:30]
    assert len(joined.text) == joined.end - joined.start


def test_distant_or_foreign_chunks_are_not_joined():
    first = piece(0, 7)
    assert widened(first, [piece(23, 30)]) is first
    assert widened(first, [piece(7, 14, doc_id="other")]) is first


def test_a_passage_is_widened_by_the_chunks_beside_it(make_kb, corpus_copy):
    kb = make_kb()
    kb.ingest([corpus_copy])
    passages = Retriever(kb).retrieve("成都要建设的三大休闲游憩带是哪些？", k=5).passages
    middle = next(p for p in passages if p.position and p.position > 0)
    joined = widen(kb, middle)
    assert joined.start < middle.start or joined.end > middle.end
    assert joined.text[middle.start - joined.start : middle.end - joined.start] == middle.text
    neighbours = kb.store.at_positions(middle.doc_id, [middle.position - 1, middle.position + 1])
    assert neighbours and all(n.metadata["doc_id"] == middle.doc_id for n in neighbours)
    assert {n.metadata["position"] for n in neighbours} <= {middle.position - 1, middle.position + 1}
    assert len({n.chunk_id for n in neighbours}) == len(neighbours)  # one record per chunk
    unplaced = replace(middle, position=None)  # a passage that predates positions: left as it is
    assert widen(kb, unplaced) is unplaced
