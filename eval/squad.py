"""SQuAD-format files (SQuAD 1.1/2.0, CMRC 2018, DRCD, XQuAD, MLQA) as eval datasets.

Each paragraph becomes one document: its ``id`` when it has one, otherwise an id derived from its
text (``p-`` + 12 hex digits of SHA-256), so that re-reading the file gives the same documents.
SQuAD 2.0's ``is_impossible`` questions become unanswerable items. XQuAD and MLQA ship the same
questions in several languages with shared question ids; ``aligned_to_dataset`` puts the questions
of one file over the paragraphs (and gold answers) of another, e.g. English questions over Chinese
contexts.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from eval.items import Dataset, EvalItem, get_field, get_text, read_json, safe_id, script_of, write_corpus
from rag.errors import ConfigError

# Questions that only make sense next to their paragraph ("in this text …") are left out.
_DEICTIC = re.compile(r"文中|本文|本段|该段|這段|这段|上文|此段|文章")


@dataclass(frozen=True)
class SquadQuestion:
    id: str
    question: str
    answers: tuple[str, ...]  # distinct non-empty gold spans; () for an impossible question
    impossible: bool
    where: str


@dataclass(frozen=True)
class SquadParagraph:
    doc_id: str
    context: str
    questions: tuple[SquadQuestion, ...]
    where: str


def read_squad(path: Path) -> list[SquadParagraph]:
    """Parse and check a SQuAD-format file; any malformed record is one clear ConfigError."""
    data = read_json(path)
    articles = get_field(data, "data", list, f"{path}: top level")
    paragraphs: list[SquadParagraph] = []
    seen_docs: dict[str, SquadParagraph] = {}
    seen_questions: dict[str, str] = {}
    for a, article in enumerate(articles):
        where_article = f"{path}: data[{a}]"
        for p, paragraph in enumerate(get_field(article, "paragraphs", list, where_article)):
            where = f"{where_article}.paragraphs[{p}]"
            parsed = _paragraph(paragraph, where)
            earlier = seen_docs.get(parsed.doc_id)
            if earlier is not None and earlier.context != parsed.context:
                raise ConfigError(
                    f"{where}: field 'id': {parsed.doc_id!r} is also {earlier.where}, with other text"
                )
            seen_docs[parsed.doc_id] = parsed
            for question in parsed.questions:
                if question.id in seen_questions:
                    raise ConfigError(
                        f"{question.where}: field 'id': {question.id!r} repeats {seen_questions[question.id]}"
                    )
                seen_questions[question.id] = question.where
            paragraphs.append(parsed)
    if not paragraphs:
        raise ConfigError(f"{path}: field 'data' holds no paragraphs")
    return paragraphs


def _paragraph(paragraph: object, where: str) -> SquadParagraph:
    context = get_field(paragraph, "context", str, where)
    if not context.strip():
        raise ConfigError(f"{where}: field 'context' is empty")
    raw_id = get_field(paragraph, "id", (str, int), where, default=None)
    doc_id = safe_id(str(raw_id)) if raw_id is not None else content_id(context)
    questions = tuple(
        _question(qa, f"{where}.qas[{q}]") for q, qa in enumerate(get_field(paragraph, "qas", list, where))
    )
    return SquadParagraph(doc_id, context, questions, where)


def _question(qa: object, where: str) -> SquadQuestion:
    qid = get_text(qa, "id", where, number_ok=True)
    question = get_field(qa, "question", str, where)
    impossible = get_field(qa, "is_impossible", bool, where, default=False)
    answers = get_field(qa, "answers", list, where, default=[] if impossible else None)
    if answers is None:
        raise ConfigError(f"{where}: missing field 'answers'")
    texts = []
    for n, answer in enumerate(answers):
        texts.append(get_field(answer, "text", str, f"{where}.answers[{n}]"))
    golds = tuple(dict.fromkeys(t for t in texts if t.strip()))
    if not impossible and not golds:
        raise ConfigError(
            f"{where}: field 'answers' has no non-empty text (mark unanswerable questions is_impossible: true)"
        )
    return SquadQuestion(qid, question.strip(), golds, impossible, where)


def content_id(context: str) -> str:
    return "p-" + hashlib.sha256(context.encode("utf-8")).hexdigest()[:12]


def squad_to_dataset(path: Path, corpus_dir: Path, *, name: str) -> Dataset:
    """Each paragraph becomes a document ``<corpus_dir>/<doc id>.txt``; each question an item."""
    paragraphs = read_squad(path)
    write_corpus(corpus_dir, {p.doc_id: p.context for p in paragraphs})
    items, skipped = [], 0
    for paragraph in paragraphs:
        for question in paragraph.questions:
            if not question.question or _DEICTIC.search(question.question):
                skipped += 1
                continue
            items.append(_item(question, question.question, paragraph.doc_id))
    return Dataset(name, items, [corpus_dir], source=str(path), notes=_notes(skipped))


def aligned_to_dataset(questions_path: Path, contexts_path: Path, corpus_dir: Path, *, name: str) -> Dataset:
    """The questions of ``questions_path`` over the paragraphs and gold answers of
    ``contexts_path`` (two languages of one XQuAD/MLQA set), matched by question id."""
    asked = {q.id: q for p in read_squad(questions_path) for q in p.questions}
    paragraphs = read_squad(contexts_path)
    contexts = {q.id: q for p in paragraphs for q in p.questions}
    missing = [qid for qid in contexts if qid not in asked]
    extra = [qid for qid in asked if qid not in contexts]
    if len(missing) == len(contexts):
        raise ConfigError(
            f"{questions_path} and {contexts_path} share no question ids: are they one XQuAD/MLQA set "
            "in two languages?"
        )
    if missing or extra:
        first = missing[0] if missing else extra[0]
        where = contexts[first].where if missing else asked[first].where
        other = questions_path if missing else contexts_path
        raise ConfigError(
            f"{where}: field 'id': question {first!r} has no counterpart in {other} "
            f"({len(missing)} of {contexts_path.name} and {len(extra)} of {questions_path.name} unmatched)"
        )
    write_corpus(corpus_dir, {p.doc_id: p.context for p in paragraphs})
    items, skipped = [], 0
    for paragraph in paragraphs:
        for gold in paragraph.questions:
            question = asked[gold.id]
            if not question.question or _DEICTIC.search(question.question):
                skipped += 1
                continue
            if question.impossible != gold.impossible:
                raise ConfigError(
                    f"{question.where}: field 'is_impossible' disagrees with {gold.where} in {contexts_path}"
                )
            item = _item(gold, question.question, paragraph.doc_id)
            crossed = (item.lang == "en") != (script_of(paragraph.context) == "en")
            items.append(_with_tag(item, "cross_lingual") if crossed else item)
    source = f"questions {questions_path}, contexts {contexts_path}"
    return Dataset(name, items, [corpus_dir], source=source, notes=_notes(skipped))


def _item(gold: SquadQuestion, question: str, doc_id: str) -> EvalItem:
    if gold.impossible:
        return EvalItem(gold.id, question, script_of(question), None, (), (), False, tags=("unanswerable",))
    return EvalItem(
        gold.id,
        question,
        script_of(question),
        doc_id,
        gold.answers,
        (gold.answers,),
        True,
        squad_answers=gold.answers,
    )


def _with_tag(item: EvalItem, tag: str) -> EvalItem:
    from dataclasses import replace

    return replace(item, tags=(*item.tags, tag))


def _notes(skipped: int) -> list[str]:
    return [f"{skipped} questions that point at their paragraph (文中, 本文 …) left out"] if skipped else []
