"""Typed records that cross stage boundaries: Document, Chunk, Passage, Citation, Stage, Answer."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class DocumentMeta:
    """What we know about a document beyond its text. Every field is optional."""

    title: str | None = None
    date: str | None = None  # ISO 8601 (YYYY-MM-DD) after repair
    doc_number: str | None = None  # e.g. 川办函〔2020〕31号
    source: str | None = None  # publisher or outlet
    language: str | None = None  # zh-Hans, zh-Hant, en, or "zh-Hans+en" for bilingual texts
    issuer: str | None = None  # 发文机关, e.g. 四川省人民政府办公厅
    doc_type: str | None = None  # 通知, 意见, 办法, 规划, 方案, 通报, … or 新闻
    region: str | None = None  # 四川省, 成都市, …
    effective_date: str | None = None  # ISO date the document takes effect (自…起施行)
    supersedes: str | None = None  # titles / numbers of documents it repeals, joined by "；"


@dataclass(frozen=True)
class Document:
    """A loaded (and later cleaned) file. ``doc_id`` is stable: the file's stem."""

    doc_id: str
    source_path: str
    sha256: str  # of the raw file bytes: the change detector for re-ingest
    text: str
    meta: DocumentMeta = field(default_factory=DocumentMeta)
    # Lines read by OCR (scanned pages), each with its recognition confidence; empty otherwise.
    ocr_lines: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Chunk:
    """A passage of a cleaned document. ``start``/``end`` index ``Document.text``."""

    chunk_id: str  # content-derived: same doc + same text + same position -> same id
    doc_id: str
    position: int
    text: str
    start: int
    end: int
    section: str = ""  # "二、突出发展重点 > (一)引领发展六种新形态"
    language: str = ""  # dominant language of the chunk text

    @property
    def text_for_embedding(self) -> str:
        """Title enhancement: the section path gives the passage its context."""
        return f"{self.section}\n{self.text}" if self.section else self.text


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with the document facts a citation needs and its scores."""

    chunk_id: str
    doc_id: str
    text: str
    start: int
    end: int
    section: str = ""
    title: str | None = None
    date: str | None = None
    doc_number: str | None = None
    source_path: str = ""
    issuer: str | None = None  # 发文机关
    doc_type: str | None = None
    region: str | None = None  # the document's 四川省, 成都市, … (rag.metadata)
    score: float = 0.0
    dense_similarity: float | None = None  # cosine to the question, when dense retrieval ran
    dense_rank: int | None = None
    keyword_rank: int | None = None
    # Read by OCR: the lowest line confidence, and (start, end, confidence) of doubtful lines.
    ocr_confidence: float | None = None
    doubtful: tuple[tuple[int, int, float], ...] = ()
    superseded_by: str | None = None  # doc_id of a newer document that repeals this one
    position: int | None = None  # the chunk's order in its document

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Citation:
    """One ``[n]`` marker in an answer and the exact span of the passage it points at."""

    n: int
    chunk_id: str
    doc_id: str
    title: str | None
    date: str | None
    section: str
    passage: str
    span_start: int  # offsets of the cited span within ``passage``
    span_end: int
    doc_start: int  # offsets of the cited span within the cleaned document text
    doc_end: int
    # Offsets within ``passage`` of what answers the question inside the cited span (the figure
    # "49个", the date, the list items), for the UI to mark; empty when none was singled out.
    highlights: tuple[tuple[int, int], ...] = ()
    # The document's facts a citation shows beside its title and date.
    doc_number: str | None = None
    issuer: str | None = None

    @classmethod
    def of_span(
        cls, n: int, passage: Passage, start: int, end: int, *, highlights: tuple[tuple[int, int], ...] = ()
    ) -> Citation:
        """Marker ``n`` citing ``passage.text[start:end]``."""
        return cls(
            n=n,
            chunk_id=passage.chunk_id,
            doc_id=passage.doc_id,
            title=passage.title,
            date=passage.date,
            section=passage.section,
            passage=passage.text,
            span_start=start,
            span_end=end,
            doc_start=passage.start + start,
            doc_end=passage.start + end,
            highlights=tuple(highlights),
            doc_number=passage.doc_number,
            issuer=passage.issuer,
        )

    @property
    def span(self) -> str:
        return self.passage[self.span_start : self.span_end]

    @property
    def highlighted(self) -> list[str]:
        """The texts of the highlights."""
        return [self.passage[a:b] for a, b in self.highlights]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["span"] = self.span
        data["highlights"] = [list(h) for h in self.highlights]
        data["highlighted"] = self.highlighted
        return data


STAGES = ("retrieving", "answering", "verifying")


@dataclass(frozen=True)
class Stage:
    """A pipeline stage about to run, streamed by ``Assistant.ask_stream`` before its text pieces
    (so a UI can say what is happening while nothing is written yet)."""

    name: str  # one of STAGES

    def __post_init__(self) -> None:
        if self.name not in STAGES:
            raise ValueError(f"stage must be one of {', '.join(STAGES)}; got {self.name!r}")


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    citations: list[Citation]
    abstained: bool
    language: str
    passages: list[Passage] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    generator: str = ""
    # Set when a follow-up was rewritten into a standalone question before retrieval.
    rewritten_question: str | None = None
    # Citation verification (rag.generate.verify): share of cited sentences supported by their
    # passage (None when verification did not run), the citations before verification, and notes
    # such as dropped out-of-range markers or flagged sentences.
    support: float | None = None
    unverified_citations: list[Citation] | None = None
    verification_notes: list[str] = field(default_factory=list)
    # The evidence model's probability that the question is answerable from the passages (None
    # when no evidence model ran).
    answerability: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.text,
            "language": self.language,
            "abstained": self.abstained,
            "generator": self.generator,
            "citations": [c.to_dict() for c in self.citations],
            "passages": [p.to_dict() for p in self.passages],
            "timings": self.timings,
            "rewritten_question": self.rewritten_question,
            "support": self.support,
            "answerability": self.answerability,
            "verification_notes": self.verification_notes,
        }


@dataclass(frozen=True)
class Turn:
    """One finished exchange of a conversation, as follow-up rewriting needs it."""

    question: str
    answer: str
