from pathlib import Path

import pytest

from rag.chunk import Chunker, chunk, text_weight
from rag.clean import clean_text
from rag.types import Document

CORPUS = Path(__file__).resolve().parents[2] / "data" / "corpus" / "sichuan"


def corpus_doc(prefix: str) -> Document:
    path = next(CORPUS.glob(f"{prefix}_*.txt"))
    return Document(path.stem, str(path), "sha", clean_text(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_offsets_point_into_the_cleaned_text_and_ids_are_unique(prefix):
    doc = corpus_doc(prefix)
    chunks = chunk(doc)
    assert chunks
    for c in chunks:
        assert doc.text[c.start : c.end] == c.text
        assert text_weight(c.text_for_embedding) <= 480
    assert len({c.chunk_id for c in chunks}) == len(chunks)


def test_ids_are_stable_and_content_derived():
    doc = corpus_doc("004")
    first, second = chunk(doc), chunk(doc)
    assert [c.chunk_id for c in first] == [c.chunk_id for c in second]
    edited = Document(doc.doc_id, doc.source_path, "sha2", doc.text.replace("五、保障措施", "五、保障"))
    changed = {c.chunk_id for c in chunk(edited)}
    unchanged_text = [c for c in first if "保障措施" not in c.section and "保障措施" not in c.text]
    assert all(c.chunk_id in changed for c in unchanged_text)


def test_section_path_is_kept_and_prepended_for_embedding():
    chunks = chunk(corpus_doc("004"))
    smart = next(c for c in chunks if "1.智慧服务" in c.text)
    assert smart.section == "二、突出发展重点,厚植成都生活新优势 > (一)引领发展六种新形态"
    assert smart.text_for_embedding.startswith(smart.section + "\n")


def test_bilingual_pairs_stay_in_one_chunk():
    chunks = chunk(corpus_doc("000"))
    holder = next(c for c in chunks if "成功创建49个省级现代服务业集聚区" in c.text)
    assert "49 provincial modern service industry clusters" in holder.text
    assert holder.language == "zh-Hans+en"


def test_sentences_are_not_cut_and_overlap_repeats_one_sentence():
    doc = corpus_doc("003")
    chunks = Chunker(size=200, overlap=1)(doc)
    for c in chunks:
        assert c.text[-1] in "。！？；;”)" or c.end == len(doc.text)
    repeated = [a for a, b in zip(chunks, chunks[1:], strict=False) if b.start < a.end]
    assert repeated, "consecutive chunks should share an overlapping sentence"


def test_a_sentence_longer_than_the_ceiling_is_cut():
    text = "，".join(["这是一个很长的句子片段"] * 80) + "。"
    doc = Document("long", "long.txt", "sha", text)
    chunks = Chunker(size=100, overlap=0, max_weight=200)(doc)
    assert len(chunks) > 1
    assert "".join(c.text for c in chunks) == text


@pytest.mark.parametrize("kwargs", [{"size": 5}, {"overlap": -1}, {"size": 300, "max_weight": 100}])
def test_invalid_options_are_rejected_with_the_value(kwargs):
    with pytest.raises(ValueError, match=str(list(kwargs.values())[-1])):
        Chunker(**kwargs)


def test_chunking_a_long_line_without_full_stops_is_linear(monkeypatch):
    """The work (characters weighed) grows with the text, not with its square: a 1 MB line used
    to be re-weighed from every cut to its end. Counted, not timed."""
    import rag.chunk

    weighed = {"chars": 0}

    def counting(function):
        def wrapper(text, *args):
            weighed["chars"] += len(text)
            return function(text, *args)

        return wrapper

    monkeypatch.setattr(rag.chunk, "text_weight", counting(rag.chunk.text_weight))
    monkeypatch.setattr(rag.chunk, "cjk_count", counting(rag.chunk.cjk_count))
    text = "四川省推进现代服务业高质量发展，" * 4000  # 64,000 characters, one sentence
    chunks = Chunker()(Document("long", "long.txt", "sha", text))
    assert weighed["chars"] <= 10 * len(text)
    assert chunks[0].start == 0 and chunks[-1].end == len(text)
    assert all(a.end == b.start for a, b in zip(chunks, chunks[1:], strict=False))  # cut, not lost
    assert all(text_weight(c.text) <= 460 for c in chunks)
