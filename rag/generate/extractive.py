"""Extractive generator: no LLM. The evidence model rates every sentence of the retrieved
passages; below the answerability threshold the assistant refuses and lists the closest passages;
otherwise it leads with what was asked for (the number and its unit, the date, the name, the
enumerated items) and quotes the sentence it comes from, with its ``[n]``.

An English question over a Chinese sentence quotes the English twin of a bilingual passage when
there is one, and otherwise says that the documents state it in Chinese before the quote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.generate.answer_model import Assessment, EvidenceModel
from rag.generate.candidates import Candidate
from rag.generate.direct import find_answer, quote_window
from rag.generate.docfacts import FactLine, fact_lines
from rag.generate.enumeration import ENUMERATOR, enumeration
from rag.generate.refusal import closest_passages
from rag.prompts import load_prompts
from rag.question import Question
from rag.textnorm import detect_language, fold_t2s, sentence_spans
from rag.types import Answer, Citation, Passage

_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
_CJK = re.compile(r"[\u3400-\u9fff]")
_FIGURE = re.compile(r"\d+(?:\.\d+)?")
_MIN_TWIN_CHARS = 20  # shorter English pieces are headings or names, unless they share a figure


@dataclass(frozen=True)
class _Quote:
    """What one marker quotes: offsets in its passage, the answer spans inside (passage offsets)
    and the lines of the quote (one per sentence of an enumeration)."""

    passage_index: int
    start: int
    end: int
    highlights: tuple[tuple[int, int], ...]
    lead: str
    lines: tuple[tuple[int, int], ...]


class ExtractiveGenerator:
    name = "extractive"

    def __init__(self, *, evidence: EvidenceModel, max_quotes: int = 3) -> None:
        if max_quotes < 1:
            raise ValueError(f"max_quotes must be at least 1; got {max_quotes}")
        self.evidence, self.max_quotes = evidence, max_quotes
        self.prompts = load_prompts("extractive.v2")

    def generate(self, question: str, passages: list[Passage]) -> Answer:
        language = detect_language(question)
        if not passages:
            text = self.prompts.render("no_passages", language=language)
            return Answer(question, text, [], True, language, generator=self.name)
        assessment = self.evidence.assess(question, passages)
        facts = fact_lines(assessment.question, passages)
        if facts:  # a question about the document itself: its header lines answer
            quotes = [
                _Quote(
                    f.passage_index, f.start, f.end, f.highlights, _lead_of(passages, f), ((f.start, f.end),)
                )
                for f in facts
            ]
            return self._answer(question, passages, language, assessment, quotes)
        if not assessment.candidates or not self.evidence.answerable(assessment):
            return self._abstain(question, passages, language, assessment)
        if assessment.parts:
            quotes = self._part_quotes(assessment, passages)
        else:
            quotes = [self._quote(assessment, passages, c) for c in self._chosen(assessment)]
        if not quotes:
            return self._abstain(question, passages, language, assessment)
        return self._answer(question, passages, language, assessment, quotes)

    def _part_quotes(self, assessment: Assessment, passages: list[Passage]) -> list[_Quote]:
        """A compound question: the best sentence of each part the evidence model finds
        answerable, quoted as that part asks (its lead, its list), each quote once."""
        quotes: list[_Quote] = []
        for part in assessment.parts:
            chosen = self._chosen(part)[:1] if self.evidence.answerable(part) else []
            for quote in (self._quote(part, passages, c) for c in chosen):
                if not any(
                    (q.passage_index, q.start, q.end) == (quote.passage_index, quote.start, quote.end)
                    for q in quotes
                ):
                    quotes.append(quote)
        return quotes

    def _answer(
        self,
        question: str,
        passages: list[Passage],
        language: str,
        assessment: Assessment,
        quotes: list[_Quote],
    ) -> Answer:
        quotes.sort(key=lambda q: (q.passage_index, q.start))
        citations = [
            Citation.of_span(n, passages[q.passage_index], q.start, q.end, highlights=q.highlights)
            for n, q in enumerate(quotes, start=1)
        ]
        lines = [self._render(q, n, passages, assessment.question) for n, q in enumerate(quotes, start=1)]
        return Answer(
            question,
            "\n".join(lines),
            citations,
            False,
            language,
            generator=self.name,
            answerability=assessment.answerability,
        )

    def _abstain(
        self, question: str, passages: list[Passage], language: str, assessment: Assessment
    ) -> Answer:
        text = self.prompts.render(
            "abstain", language=language, question=question, closest=closest_passages(passages, language)
        )
        return Answer(
            question, text, [], True, language, generator=self.name, answerability=assessment.answerability
        )

    def _chosen(self, assessment: Assessment) -> list[Candidate]:
        """The best sentence, and further ones the model rates at least ``also_quote_above`` that do
        not repeat a chosen one (overlapping chunks and lead paragraphs repeat sentences)."""
        ranked = [(c, p) for c, p in assessment.ranked() if p > 0]  # 0: cannot answer (eligibility)
        if not ranked:
            return []
        chosen = [ranked[0][0]]
        for candidate, probability in ranked[1:]:
            if len(chosen) >= self.max_quotes or probability < self.evidence.params.also_quote_above:
                break
            if not any(_same_text(candidate, c) for c in chosen):
                chosen.append(candidate)
        return chosen

    def _quote(self, assessment: Assessment, passages: list[Passage], candidate: Candidate) -> _Quote:
        question, passage = assessment.question, passages[candidate.passage_index]
        if question.language == "en" and candidate.language != "en":
            candidate = _english_twin(assessment, passages, candidate, self.evidence.embedder) or candidate
        spans = sentence_spans(passage.text)
        items = enumeration(spans, passage.text, candidate.index) if question.kind == "list" else None
        if items is not None:
            lines = tuple(spans[i] for i in items)
            heads = tuple(h for line in lines if (h := _item_head(passage.text, line)) is not None)
            return _Quote(candidate.passage_index, lines[0][0], lines[-1][1], heads, "", lines)
        found = find_answer(question, candidate.text)
        local = found.spans if found else ()
        a, b = quote_window(candidate.text, local, question)
        start, end = candidate.start + a, candidate.start + b
        highlights = tuple((candidate.start + s, candidate.start + e) for s, e in local)
        lead = _lead(candidate.text, local) if found else ""
        if found and question.kind == "date":
            lead += self._year_of_document(passage, [candidate.text[s:e] for s, e in local], question)
        return _Quote(candidate.passage_index, start, end, highlights, lead, ((start, end),))

    def _year_of_document(self, passage: Passage, dates: list[str], question: Question) -> str:
        """ "（2023年，据文档日期）" when the dates found name no year ("4月27日") and the document's
        date does: news and notices date events by their own date."""
        year = _YEAR.search(passage.date or "")
        if not year or any(_YEAR.search(d) for d in dates):
            return ""
        return self.prompts.render("dated", language=question.language, year=year.group())

    def _render(self, quote: _Quote, n: int, passages: list[Passage], question: Question) -> str:
        text = passages[quote.passage_index].text
        quoted_language = detect_language(text[quote.start : quote.end])
        rows = []
        for start, end in quote.lines:
            body = _marked(text, start, end, quote.highlights) if len(quote.lines) > 1 else text[start:end]
            # "…" ends a sentence for the claim splitter; "⋯" (and "..." glued to a word) does not.
            open_, close, cut = ("“", "”", "...") if quoted_language == "en" else ("「", "」", "⋯")
            prefix = cut if start == quote.start and _cut_before(text, start) else ""
            suffix = cut if end == quote.end and _cut_after(text, end) else ""
            rows.append(f"{open_}{prefix}{body}{suffix}{close} [{n}]")
        first = rows[0]
        if question.language == "en" and quoted_language != "en":
            note = self.prompts.render("in_chinese", language="en")
            first = f"{quote.lead} — {note} {first}" if quote.lead else f"{note[0].upper()}{note[1:]} {first}"
        elif quote.lead:
            first = f"{quote.lead} — {first}"
        return "\n".join([first, *rows[1:]])


def _same_text(a: Candidate, b: Candidate) -> bool:
    x, y = fold_t2s(a.text).strip(), fold_t2s(b.text).strip()
    return x in y or y in x


def _english_twin(
    assessment: Assessment, passages: list[Passage], chosen: Candidate, embedder
) -> Candidate | None:
    """The English sentence of the chosen Chinese sentence's document (its passage, or another
    retrieved passage of it: a translation is often chunked apart) that is most like it."""
    doc_id = passages[chosen.passage_index].doc_id
    figures = set(_FIGURE.findall(chosen.text))
    english = [
        Candidate(index, i, a, b, passage.text[a:b], "en")
        for index, passage in enumerate(passages)
        if passage.doc_id == doc_id
        for i, (a, b) in enumerate(sentence_spans(passage.text))
        if _english_only(passage.text[a:b])
        and (b - a >= _MIN_TWIN_CHARS or figures & set(_FIGURE.findall(passage.text[a:b])))
    ]
    # A translation keeps the figures: a sentence with figures has no twin that shares none
    # ("川办函〔2020〕31号" is not translated by the issuing body's name on the next line).
    if figures:
        english = [c for c in english if figures & set(_FIGURE.findall(c.text))]
    if not english or assessment.vectors is None:
        return None
    own = assessment.vectors[assessment.candidates.index(chosen)]
    sims = embedder.embed_passages([c.text for c in english]) @ own
    # The twin shares the most figures, then is the most alike; a sentence of the same passage
    # beats one of another passage when both tie.
    shared = [len(figures & set(_FIGURE.findall(c.text))) for c in english]
    near = [c.passage_index == chosen.passage_index for c in english]
    best = max(range(len(english)), key=lambda i: (shared[i], float(sims[i]) + 0.01 * near[i]))
    return english[best]


def _english_only(text: str) -> bool:
    """English without Chinese: a bilingual title line ("商务厅…新基地Sichuan Provincial …") is
    no translation of a sentence."""
    return not _CJK.search(text) and detect_language(text) == "en"


def _lead(sentence: str, spans: tuple[tuple[int, int], ...]) -> str:
    """``**answer**`` and the words after it up to the clause's end: "**49个**省级现代服务业集聚区"."""
    if len(spans) > 1:
        return "、".join(f"**{sentence[a:b].strip()}**" for a, b in spans)
    a, b = spans[0]
    if detect_language(sentence) == "en":
        tail = re.match(r"(?:[ \t]+[A-Za-z0-9'-]+){0,6}", sentence[b:]).group()
    else:
        tail = re.match(r"[^，,。；;：:！？!?、\n“”「」《》()（）]{0,24}", sentence[b:]).group()
    return f"**{sentence[a:b].strip()}**{tail.rstrip()}"


def _lead_of(passages: list[Passage], fact: FactLine) -> str:
    text = passages[fact.passage_index].text
    return "、".join(f"**{text[a:b].strip()}**" for a, b in fact.highlights)


def _item_head(text: str, line: tuple[int, int]) -> tuple[int, int] | None:
    """The first clause of an enumerated item, after its enumerator ("一是加快建设…")."""
    start, end = line
    match = ENUMERATOR.match(text[start:end])
    if match is None:
        return None
    head_start = start + match.end()
    while head_start < end and text[head_start] in " ，,、:：":
        head_start += 1
    stop = re.search(r"[，,；;。：:]", text[head_start:end])
    head_end = head_start + stop.start() if stop else end
    return (head_start, head_end) if head_end > head_start else None


def _marked(text: str, start: int, end: int, highlights: tuple[tuple[int, int], ...]) -> str:
    """``text[start:end]`` with the highlights inside it in bold."""
    pieces, cursor = [], start
    for a, b in sorted(highlights):
        if a >= start and b <= end and a >= cursor:
            pieces += [text[cursor:a], f"**{text[a:b]}**"]
            cursor = b
    return "".join(pieces) + text[cursor:end]


_TERMINAL = "。！？!?；;.…"
_CLOSERS = "”’」』》）)\"'"


def _cut_before(text: str, start: int) -> bool:
    """True when the quote starts inside a sentence (its start is not a line's or a sentence's)."""
    before = text[:start]
    stripped = before.rstrip()
    return (
        bool(stripped.rstrip(_CLOSERS))
        and "\n" not in before[len(stripped) :]
        and stripped.rstrip(_CLOSERS)[-1] not in _TERMINAL
    )


def _cut_after(text: str, end: int) -> bool:
    """True when the quote stops inside a sentence."""
    after = text[end:]
    stripped = after.lstrip()
    last = text[:end].rstrip(_CLOSERS)
    return (
        bool(stripped)
        and "\n" not in after[: len(after) - len(stripped)]
        and bool(last)
        and last[-1] not in _TERMINAL
    )
