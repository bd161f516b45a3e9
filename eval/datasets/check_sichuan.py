"""Validate eval/datasets/sichuan.jsonl against the cleaned bundled corpus.

Run: .venv/bin/python eval/datasets/check_sichuan.py
Prints counts per language, document and tag; exits 1 on any error.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

from rag.clean import clean_text
from rag.textnorm import cjk_count, detect_language, fold_t2s

ROOT = Path(__file__).resolve().parents[2]
DATASET = Path(__file__).with_name("sichuan.jsonl")
CORPUS = ROOT / "data" / "corpus" / "sichuan"

REQUIRED = {
    "id": str,
    "question": str,
    "lang": str,
    "doc": (str, type(None)),
    "evidence": list,
    "answer": list,
    "answerable": bool,
}
OPTIONAL = {"tags": list}
LANGS = ("zh-Hans", "zh-Hant", "en")
TAGS = {
    "number",
    "name",
    "list",
    "date",
    "doc_number",
    "multi_passage",
    "cross_lingual",
    "unanswerable",
    "definition",
}
BILINGUAL = {"000_2d3ce4a55c8786ef", "001_d78cfde9ab7cdbce"}
MIN_TOTAL, MIN_PER_DOC, MIN_UNANSWERABLE = 66, 8, 12
EVIDENCE_LEN = (6, 40)


def norm(text: str) -> str:
    """The matching normalisation: NFKC width folding + traditional->simplified, whitespace
    collapsed to one space, lower case."""
    return re.sub(r"\s+", " ", fold_t2s(text)).strip().lower()


def main() -> int:
    docs = {p.stem: norm(clean_text(p.read_text(encoding="utf-8"))) for p in sorted(CORPUS.glob("*.txt"))}
    errors: list[str] = []
    rows = []
    for n, line in enumerate(DATASET.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            errors.append(f"line {n}: blank line")
            continue
        try:
            rows.append((n, json.loads(line)))
        except json.JSONDecodeError as exc:
            errors.append(f"line {n}: invalid JSON ({exc})")

    ids: Counter = Counter()
    questions: Counter = Counter()
    by_lang: Counter = Counter()
    by_doc: Counter = Counter()
    by_tag: Counter = Counter()
    by_doc_lang: Counter = Counter()
    unanswerable_langs: Counter = Counter()
    for n, row in rows:
        where = f"line {n} ({row.get('id', '?')})"

        def err(msg: str, where: str = where) -> None:
            errors.append(f"{where}: {msg}")

        if not isinstance(row, dict):
            err("not a JSON object")
            continue
        keys = set(row)
        if missing := set(REQUIRED) - keys:
            err(f"missing fields {sorted(missing)}")
            continue
        if extra := keys - set(REQUIRED) - set(OPTIONAL):
            err(f"unknown fields {sorted(extra)}")
        for key, typ in {**REQUIRED, **OPTIONAL}.items():
            if key in row and not isinstance(row[key], typ):
                err(f"field {key!r} has type {type(row[key]).__name__}")
        if any(not isinstance(row.get(k), REQUIRED[k]) for k in REQUIRED):
            continue

        ids[row["id"]] += 1
        questions[norm(row["question"])] += 1
        lang, doc, question = row["lang"], row["doc"], row["question"]
        tags = row.get("tags", [])
        if not re.fullmatch(r"sc-\d{3}", row["id"]):
            err("id must look like sc-001")
        if not question.strip():
            err("empty question")
        if lang not in LANGS:
            err(f"lang {lang!r} not in {LANGS}")
        elif detect_language(question) != lang:
            err(f"question detected as {detect_language(question)}, declared {lang}")
        if lang == "en" and cjk_count(question):
            err("English question contains CJK characters")
        if not all(isinstance(t, str) and t in TAGS for t in tags):
            err(f"unknown tags {[t for t in tags if t not in TAGS]}")
        if len(set(tags)) != len(tags):
            err("duplicate tags")
        by_lang[lang] += 1
        by_doc[str(doc)] += 1
        by_doc_lang[(str(doc), lang)] += 1
        by_tag.update(tags)

        if not row["answerable"]:
            unanswerable_langs[lang] += 1
            if doc is not None or row["evidence"] or row["answer"]:
                err("unanswerable question must have doc null, evidence [] and answer []")
            if "unanswerable" not in tags:
                err("unanswerable question lacks the 'unanswerable' tag")
            continue
        if "unanswerable" in tags:
            err("answerable question tagged 'unanswerable'")
        if doc not in docs:
            err(f"unknown doc {doc!r}")
            continue
        text = docs[doc]
        if lang == "en" and doc not in BILINGUAL and "cross_lingual" not in tags:
            err("English question about a Chinese-only document lacks the 'cross_lingual' tag")

        if not row["evidence"]:
            err("answerable question without evidence")
        for ev in row["evidence"]:
            if not isinstance(ev, str):
                err(f"evidence {ev!r} is not a string")
                continue
            if not EVIDENCE_LEN[0] <= len(ev) <= EVIDENCE_LEN[1]:
                err(f"evidence {ev!r} has {len(ev)} characters (want {EVIDENCE_LEN[0]}-{EVIDENCE_LEN[1]})")
            if norm(ev) not in text:
                err(f"evidence {ev!r} is not in the cleaned text of {doc}")

        if not row["answer"]:
            err("answerable question without answer groups")
        for group in row["answer"]:
            if (
                not isinstance(group, list)
                or not group
                or not all(isinstance(a, str) and a.strip() for a in group)
            ):
                err(f"answer group {group!r} must be a non-empty list of non-empty strings")
                continue
            if not any(norm(a) in text or not cjk_count(a) for a in group):
                err(f"no alternative of answer group {group!r} is in {doc} or English")

    for key, count in ids.items():
        if count > 1:
            errors.append(f"duplicate id {key!r} ({count}x)")
    for key, count in questions.items():
        if count > 1:
            errors.append(f"duplicate question {key!r} ({count}x)")
    total = sum(by_lang.values())
    if total < MIN_TOTAL:
        errors.append(f"{total} questions, want at least {MIN_TOTAL}")
    if by_lang and max(by_lang[lang] for lang in LANGS) - min(by_lang[lang] for lang in LANGS) > 1:
        errors.append(f"languages are unbalanced: {dict(by_lang)}")
    for doc in docs:
        if by_doc[doc] < MIN_PER_DOC:
            errors.append(f"{doc}: {by_doc[doc]} questions, want at least {MIN_PER_DOC}")
        if by_doc_lang[(doc, "en")] == 0:
            errors.append(f"{doc}: no English question")
    n_unanswerable = sum(unanswerable_langs.values())
    if n_unanswerable < MIN_UNANSWERABLE:
        errors.append(f"{n_unanswerable} unanswerable questions, want at least {MIN_UNANSWERABLE}")
    if any(unanswerable_langs[lang] == 0 for lang in LANGS):
        errors.append(f"unanswerable questions missing in some language: {dict(unanswerable_langs)}")

    print(
        f"{DATASET.name}: {total} questions, {total - n_unanswerable} answerable, {n_unanswerable} unanswerable"
    )
    print("per lang:", ", ".join(f"{lang}={by_lang[lang]}" for lang in LANGS))
    print("per doc:")
    for doc in [*docs, "None"]:
        split = " ".join(f"{lang}={by_doc_lang[(doc, lang)]}" for lang in LANGS)
        print(f"  {doc:<22} {by_doc[doc]:>3}  ({split})")
    print("per tag:", ", ".join(f"{tag}={count}" for tag, count in sorted(by_tag.items())))
    if errors:
        print(f"\n{len(errors)} error(s):")
        for line in errors:
            print("  " + line)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
