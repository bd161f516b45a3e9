"""What a refusal lists: the closest passages as "title › section", each once."""

from __future__ import annotations

from collections.abc import Sequence

from rag.types import Passage

_SEPARATOR = {"en": "; "}


def closest_passages(passages: Sequence[Passage], language: str, *, count: int = 3) -> str:
    """The first ``count`` distinct "title › section" labels of ``passages`` (document ids only
    when a passage has no title)."""
    labels: list[str] = []
    for passage in passages:
        title = passage.title or passage.doc_id
        label = " › ".join(part for part in (title, passage.section.replace(" > ", " › ")) if part)
        if label not in labels:
            labels.append(label)
        if len(labels) == count:
            break
    return _SEPARATOR.get(language, "；").join(labels)
