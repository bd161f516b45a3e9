"""BEIR-style retrieval sets: ``corpus.jsonl`` (``_id``, ``text``, optional ``title``),
``queries.jsonl`` (``_id``, ``text``) and ``qrels/<split>.tsv`` (query id, document id, score).

Only retrieval is scored (hit@k, MRR@10, nDCG@10, per document): a document with a score above 0
is relevant; graded scores count as relevant, not as grades. Queries without a relevant document in
the split are left out, as BEIR's own evaluation does.
"""

from __future__ import annotations

from pathlib import Path

from eval.items import Dataset, EvalItem, get_field, get_text, read_jsonl, safe_id, script_of, write_corpus
from rag.errors import ConfigError


def beir_to_dataset(folder: Path, corpus_dir: Path, *, name: str, split: str = "test") -> Dataset:
    if not folder.is_dir():
        raise ConfigError(f"{folder}: not a folder (a BEIR set is corpus.jsonl, queries.jsonl, qrels/)")
    documents = _corpus(folder / "corpus.jsonl")
    queries = _queries(folder / "queries.jsonl")
    relevant = _qrels(folder / "qrels" / f"{split}.tsv", queries, documents)
    write_corpus(corpus_dir, {doc_id: text for doc_id, (text, _) in documents.items()})
    items = [
        EvalItem(
            qid,
            queries[qid],
            script_of(queries[qid]),
            docs[0],
            (),
            (),
            True,
            tags=("retrieval_only",),
            relevant_docs=tuple(docs),
        )
        for qid, docs in relevant.items()
    ]
    notes = [f"{len(queries) - len(items)} queries without a relevant document in qrels/{split}.tsv left out"]
    return Dataset(
        name,
        items,
        [corpus_dir],
        source=str(folder),
        notes=notes if len(queries) > len(items) else [],
        retrieval_only=True,
    )


def _corpus(path: Path) -> dict[str, tuple[str, str]]:
    """document id (made file-safe) -> (text written to the corpus, the original ``_id``)."""
    documents: dict[str, tuple[str, str]] = {}
    for where, record in read_jsonl(path):
        raw = get_text(record, "_id", where, number_ok=True)
        text = get_field(record, "text", str, where)
        title = get_field(record, "title", str, where, default="").strip()
        if not text.strip() and not title:
            raise ConfigError(f"{where}: field 'text' is empty")
        doc_id = safe_id(raw)
        if doc_id in documents:
            other = documents[doc_id][1]
            what = "repeats" if other == raw else f"becomes the same file name as {other!r}"
            raise ConfigError(f"{where}: field '_id': {raw!r} {what}")
        documents[doc_id] = (f"{title}\n\n{text}" if title else text, raw)
    if not documents:
        raise ConfigError(f"{path}: no documents")
    return documents


def _queries(path: Path) -> dict[str, str]:
    queries: dict[str, str] = {}
    for where, record in read_jsonl(path):
        qid = get_text(record, "_id", where, number_ok=True)
        if qid in queries:
            raise ConfigError(f"{where}: field '_id': {qid!r} repeats")
        queries[qid] = get_text(record, "text", where)
    return queries


def _qrels(
    path: Path, queries: dict[str, str], documents: dict[str, tuple[str, str]]
) -> dict[str, list[str]]:
    """query id -> relevant document ids (file-safe), in qrels order."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such file (the qrels of the split)") from exc
    by_raw = {raw: doc_id for doc_id, (_, raw) in documents.items()}
    relevant: dict[str, list[str]] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip() or (number == 1 and line.lower().startswith("query")):
            continue  # the header line: query-id, corpus-id, score
        where = f"{path}:{number}"
        cells = line.rstrip("\n").split("\t")
        if len(cells) != 3:
            raise ConfigError(f"{where}: expected 3 tab-separated columns (query-id, corpus-id, score)")
        qid, raw_doc, score = (c.strip() for c in cells)
        if qid not in queries:
            raise ConfigError(f"{where}: column 'query-id': {qid!r} is not in queries.jsonl")
        if raw_doc not in by_raw:
            raise ConfigError(f"{where}: column 'corpus-id': {raw_doc!r} is not in corpus.jsonl")
        try:
            grade = float(score)
        except ValueError as exc:
            raise ConfigError(f"{where}: column 'score' must be a number; got {score!r}") from exc
        if grade > 0 and by_raw[raw_doc] not in relevant.get(qid, []):
            relevant.setdefault(qid, []).append(by_raw[raw_doc])
    if not relevant:
        raise ConfigError(f"{path}: no query has a relevant document (score > 0)")
    return relevant
