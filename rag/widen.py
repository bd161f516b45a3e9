"""Widen a retrieved passage by its neighbours in the document. An enumeration ("要围绕A,…；围绕B,…；
…", "一是…二是…") is often cut across two chunks, and a list question needs every item: the
passage it is answered from is joined with the chunks before and after it (one Chroma read)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from rag.types import Passage

# Characters between two chunks that may be bridged (the blank lines between paragraphs). The
# text between chunks is not stored, so a wider gap is not bridged: offsets must stay the document's.
MAX_GAP = 4


def widened(passage: Passage, neighbours: Sequence[Passage]) -> Passage:
    """``passage`` with the text of the neighbouring chunks of its document that touch or overlap
    it (chunks overlap by a sentence), as one passage over the joined span of the document."""
    text, start, end = passage.text, passage.start, passage.end
    before = [n for n in neighbours if n.doc_id == passage.doc_id and n.start < start]
    after = [n for n in neighbours if n.doc_id == passage.doc_id and n.end > end]
    for prior in sorted(before, key=lambda n: -n.start):
        if prior.end + MAX_GAP < start or len(prior.text) != prior.end - prior.start:
            break
        keep = min(prior.end, start) - prior.start  # the part of it before the passage
        text = prior.text[:keep] + "\n" * max(0, start - prior.end) + text
        start = prior.start
    for later in sorted(after, key=lambda n: n.end):
        if later.start > end + MAX_GAP or len(later.text) != later.end - later.start:
            break
        text = text + "\n" * max(0, later.start - end) + later.text[max(0, end - later.start) :]
        end = later.end
    if (start, end) == (passage.start, passage.end):
        return passage
    return replace(passage, text=text, start=start, end=end)
