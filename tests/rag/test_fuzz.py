"""Property-based tests (hypothesis) of cleaning and chunking on arbitrary and hostile text:
never crash, offsets valid, every character of a passage covered by a chunk."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.chunk import Chunker, _heading_level, _paragraphs
from rag.clean import clean_text
from rag.types import Document

# Chinese, English, punctuation of both, ruby, broken-conversion debris, headings, control chars
PIECES = st.sampled_from(
    [
        "四川省", "服务业", "高质量发展", "國(guó)", "?qū)", "\ufffd", "，", "。", "、", "；", "！", "？",
        "Sichuan ", "service industry", ". ", "! ", "No. 31 ", "U.S. ", "2020年", "川办函〔2020〕31号",
        "\n", "\n\n", "\r\n", " ", "\u3000", "\t", "\x00", "一、总体要求\n", "(一)发展目标\n", "1.智慧服务\n",
        "# Title\n", "打印\n", "版权所有\n", "【】", "<script>", "“", "”", "…",
    ]
)  # fmt: skip
TEXTS = st.one_of(
    st.lists(PIECES, max_size=120).map("".join),
    st.text(max_size=400),
    st.builds(lambda piece, n: piece * n, PIECES, st.integers(1, 600)),  # long runs, no full stop
)
CHUNKERS = st.builds(
    lambda size, overlap, ceiling: Chunker(size=size, overlap=overlap, max_weight=size + ceiling),
    st.integers(20, 300),
    st.integers(0, 3),
    st.integers(0, 200),
)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(TEXTS)
def test_cleaning_never_crashes_and_leaves_tidy_paragraphs(raw):
    text = clean_text(raw)
    assert "\r" not in text and "\ufffd" not in text
    for paragraph in text.split("\n\n") if text else []:
        assert paragraph and paragraph == paragraph.strip() and "\n" not in paragraph


@FUZZ
@given(TEXTS, CHUNKERS)
def test_chunks_have_valid_offsets_and_cover_the_text(raw, chunker):
    text = clean_text(raw)
    chunks = chunker(Document("fuzz", "fuzz.txt", "sha", text))
    covered = [False] * len(text)
    for chunk in chunks:
        assert 0 <= chunk.start < chunk.end <= len(text)
        assert text[chunk.start : chunk.end] == chunk.text and chunk.text.strip()
        covered[chunk.start : chunk.end] = [True] * (chunk.end - chunk.start)
    assert len({c.chunk_id for c in chunks}) == len(chunks)
    assert [c.position for c in chunks] == list(range(len(chunks)))
    headings = [(s, e) for s, e in _paragraphs(text) if _heading_level(text[s:e]) is not None]
    for i, char in enumerate(text):
        if not char.isspace() and not any(s <= i < e for s, e in headings):
            assert covered[i], f"character {i} ({char!r}) is in no chunk"


@FUZZ
@given(TEXTS)
def test_chunk_ids_are_stable(raw):
    document = Document("fuzz", "fuzz.txt", "sha", clean_text(raw))
    assert [c.chunk_id for c in Chunker()(document)] == [c.chunk_id for c in Chunker()(document)]
