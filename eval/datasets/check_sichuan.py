"""Validate a question set over the cleaned bundled corpus: eval/datasets/sichuan.jsonl (the
regression gate, the default) or another file in the same format, such as sichuan_dev.jsonl (the
development set).

Run: .venv/bin/python eval/datasets/check_sichuan.py [FILE]
Prints counts per language, document and tag; exits 1 on any error.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rag.clean import clean_text
from rag.textnorm import cjk_count, detect_language, fold_t2s

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).parent
DATASET = HERE / "sichuan.jsonl"
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
EVIDENCE_LEN = (6, 40)


@dataclass(frozen=True)
class Profile:
    """What the set-level checks expect of one file."""

    id_pattern: str
    id_example: str
    min_total: int = 0
    min_per_doc: int = 0
    min_unanswerable: int = 0
    balanced: bool = True  # languages within one; English and unanswerable questions everywhere
    per_lang: int | None = None  # exactly this many questions per language
    unanswerable_per_lang: int | None = None
    min_per_doc_lang: int = 0  # answerable questions per document and language
    bilingual_evidence: bool = False  # questions on 000/001 give a Chinese and an English span
    disjoint_from: str | None = None  # a file none of whose questions may repeat here


PROFILES = {
    "sichuan.jsonl": Profile(r"sc-\d{3}", "sc-001", min_total=66, min_per_doc=8, min_unanswerable=12),
    "sichuan_dev.jsonl": Profile(
        r"dev-\d{3}",
        "dev-001",
        min_total=90,
        min_per_doc=12,
        min_unanswerable=18,
        per_lang=30,
        unanswerable_per_lang=6,
        min_per_doc_lang=4,
        bilingual_evidence=True,
        disjoint_from="sichuan.jsonl",
    ),
}
OTHER = Profile(r"[A-Za-z]+-\d{3}", "q-001", balanced=False)


@dataclass
class Tally:
    errors: list[str] = field(default_factory=list)
    ids: Counter = field(default_factory=Counter)
    questions: Counter = field(default_factory=Counter)
    by_lang: Counter = field(default_factory=Counter)
    by_doc: Counter = field(default_factory=Counter)
    by_tag: Counter = field(default_factory=Counter)
    by_doc_lang: Counter = field(default_factory=Counter)
    unanswerable_langs: Counter = field(default_factory=Counter)


def norm(text: str) -> str:
    """The matching normalisation: NFKC width folding + traditional->simplified, whitespace
    collapsed to one space, lower case."""
    return re.sub(r"\s+", " ", fold_t2s(text)).strip().lower()


def read_rows(path: Path, errors: list[str]) -> list[tuple[int, object]]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            errors.append(f"line {n}: blank line")
            continue
        try:
            rows.append((n, json.loads(line)))
        except json.JSONDecodeError as exc:
            errors.append(f"line {n}: invalid JSON ({exc})")
    return rows


def check_row(row: object, where: str, docs: dict[str, str], profile: Profile, tally: Tally) -> None:
    def err(msg: str) -> None:
        tally.errors.append(f"{where}: {msg}")

    if not isinstance(row, dict):
        err("not a JSON object")
        return
    keys = set(row)
    if missing := set(REQUIRED) - keys:
        err(f"missing fields {sorted(missing)}")
        return
    if extra := keys - set(REQUIRED) - set(OPTIONAL):
        err(f"unknown fields {sorted(extra)}")
    for key, typ in {**REQUIRED, **OPTIONAL}.items():
        if key in row and not isinstance(row[key], typ):
            err(f"field {key!r} has type {type(row[key]).__name__}")
    if any(not isinstance(row.get(k), REQUIRED[k]) for k in REQUIRED):
        return

    tally.ids[row["id"]] += 1
    tally.questions[norm(row["question"])] += 1
    lang, doc, question = row["lang"], row["doc"], row["question"]
    tags = row.get("tags", [])
    if not re.fullmatch(profile.id_pattern, row["id"]):
        err(f"id must look like {profile.id_example}")
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
    tally.by_lang[lang] += 1
    tally.by_doc[str(doc)] += 1
    tally.by_doc_lang[(str(doc), lang)] += 1
    tally.by_tag.update(tags)

    if not row["answerable"]:
        tally.unanswerable_langs[lang] += 1
        if doc is not None or row["evidence"] or row["answer"]:
            err("unanswerable question must have doc null, evidence [] and answer []")
        if "unanswerable" not in tags:
            err("unanswerable question lacks the 'unanswerable' tag")
        return
    if "unanswerable" in tags:
        err("answerable question tagged 'unanswerable'")
    if doc not in docs:
        err(f"unknown doc {doc!r}")
        return
    if lang == "en" and doc not in BILINGUAL and "cross_lingual" not in tags:
        err("English question about a Chinese-only document lacks the 'cross_lingual' tag")
    check_evidence(row["evidence"], docs[doc], doc, profile, err)
    check_answer(row["answer"], docs[doc], doc, err)


def check_evidence(evidence: list, text: str, doc: str, profile: Profile, err) -> None:
    if not evidence:
        err("answerable question without evidence")
    for ev in evidence:
        if not isinstance(ev, str):
            err(f"evidence {ev!r} is not a string")
            continue
        if not EVIDENCE_LEN[0] <= len(ev) <= EVIDENCE_LEN[1]:
            err(f"evidence {ev!r} has {len(ev)} characters (want {EVIDENCE_LEN[0]}-{EVIDENCE_LEN[1]})")
        if norm(ev) not in text:
            err(f"evidence {ev!r} is not in the cleaned text of {doc}")
    spans = [ev for ev in evidence if isinstance(ev, str)]
    one_script = not any(cjk_count(ev) for ev in spans) or all(cjk_count(ev) for ev in spans)
    if profile.bilingual_evidence and doc in BILINGUAL and one_script:
        err(f"evidence for bilingual {doc} needs a Chinese and an English span")


def check_answer(answer: list, text: str, doc: str, err) -> None:
    if not answer:
        err("answerable question without answer groups")
    for group in answer:
        if (
            not isinstance(group, list)
            or not group
            or not all(isinstance(a, str) and a.strip() for a in group)
        ):
            err(f"answer group {group!r} must be a non-empty list of non-empty strings")
            continue
        if not any(norm(a) in text or not cjk_count(a) for a in group):
            err(f"no alternative of answer group {group!r} is in {doc} or English")


def check_balance(docs: dict[str, str], profile: Profile, tally: Tally) -> None:
    errors, by_lang, unanswerable_langs = tally.errors, tally.by_lang, tally.unanswerable_langs
    total = sum(by_lang.values())
    if total < profile.min_total:
        errors.append(f"{total} questions, want at least {profile.min_total}")
    spread = max(by_lang[lang] for lang in LANGS) - min(by_lang[lang] for lang in LANGS)
    if profile.balanced and by_lang and spread > 1:
        errors.append(f"languages are unbalanced: {dict(by_lang)}")
    for doc in docs:
        if tally.by_doc[doc] < profile.min_per_doc:
            errors.append(f"{doc}: {tally.by_doc[doc]} questions, want at least {profile.min_per_doc}")
        if profile.balanced and tally.by_doc_lang[(doc, "en")] == 0:
            errors.append(f"{doc}: no English question")
        for lang in LANGS:
            if tally.by_doc_lang[(doc, lang)] < profile.min_per_doc_lang:
                errors.append(
                    f"{doc}: {tally.by_doc_lang[(doc, lang)]} {lang} questions, "
                    f"want at least {profile.min_per_doc_lang}"
                )
    n_unanswerable = sum(unanswerable_langs.values())
    if n_unanswerable < profile.min_unanswerable:
        errors.append(f"{n_unanswerable} unanswerable questions, want at least {profile.min_unanswerable}")
    if profile.balanced and any(unanswerable_langs[lang] == 0 for lang in LANGS):
        errors.append(f"unanswerable questions missing in some language: {dict(unanswerable_langs)}")
    for lang in LANGS:
        if profile.per_lang is not None and by_lang[lang] != profile.per_lang:
            errors.append(f"{by_lang[lang]} {lang} questions, want {profile.per_lang}")
        wanted = profile.unanswerable_per_lang
        if wanted is not None and unanswerable_langs[lang] != wanted:
            errors.append(f"{unanswerable_langs[lang]} unanswerable {lang} questions, want {wanted}")


def check_disjoint(rows: list[tuple[int, object]], other: Path, errors: list[str]) -> None:
    """No question of this file repeats one of ``other`` (only this file's ids are printed, so the
    other file's questions stay unseen)."""
    theirs = {
        norm(q)
        for _, r in read_rows(other, [])
        if isinstance(r, dict) and isinstance(q := r.get("question"), str)
    }
    for _, row in rows:
        if isinstance(row, dict) and isinstance(row.get("question"), str) and norm(row["question"]) in theirs:
            errors.append(f"{row.get('id', '?')}: the same question is in {other.name}")


def report(path: Path, docs: dict[str, str], tally: Tally) -> None:
    by_lang, by_doc_lang = tally.by_lang, tally.by_doc_lang
    total, n_unanswerable = sum(by_lang.values()), sum(tally.unanswerable_langs.values())
    print(
        f"{path.name}: {total} questions, {total - n_unanswerable} answerable, {n_unanswerable} unanswerable"
    )
    print("per lang:", ", ".join(f"{lang}={by_lang[lang]}" for lang in LANGS))
    print("per doc:")
    for doc in [*docs, "None"]:
        split = " ".join(f"{lang}={by_doc_lang[(doc, lang)]}" for lang in LANGS)
        print(f"  {doc:<22} {tally.by_doc[doc]:>3}  ({split})")
    print("per tag:", ", ".join(f"{tag}={count}" for tag, count in sorted(tally.by_tag.items())))


def resolve(arg: str | None) -> Path:
    """The file to check: the default gate set, a path, or a file name in eval/datasets/."""
    if arg is None:
        return DATASET
    path = Path(arg)
    return path if path.is_file() or not (HERE / arg).is_file() else HERE / arg


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 1 or (args and args[0].startswith("-")):
        print("usage: check_sichuan.py [FILE]  (default: eval/datasets/sichuan.jsonl)", file=sys.stderr)
        return 2
    path = resolve(args[0] if args else None)
    if not path.is_file():
        print(f"no such file: {path}", file=sys.stderr)
        return 2
    profile = PROFILES.get(path.name, OTHER)
    docs = {p.stem: norm(clean_text(p.read_text(encoding="utf-8"))) for p in sorted(CORPUS.glob("*.txt"))}
    tally = Tally()
    rows = read_rows(path, tally.errors)
    for n, row in rows:
        where = f"line {n} ({row.get('id', '?') if isinstance(row, dict) else '?'})"
        check_row(row, where, docs, profile, tally)

    for key, count in tally.ids.items():
        if count > 1:
            tally.errors.append(f"duplicate id {key!r} ({count}x)")
    for key, count in tally.questions.items():
        if count > 1:
            tally.errors.append(f"duplicate question {key!r} ({count}x)")
    check_balance(docs, profile, tally)
    if profile.disjoint_from and (other := HERE / profile.disjoint_from).is_file() and other != path:
        check_disjoint(rows, other, tally.errors)

    report(path, docs, tally)
    if tally.errors:
        print(f"\n{len(tally.errors)} error(s):")
        for line in tally.errors:
            print("  " + line)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
