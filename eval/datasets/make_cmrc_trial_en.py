#!/usr/bin/env python3
"""Select and validate the CMRC 2018 trial questions used for cmrc_trial_en.jsonl.

cmrc_trial_en.jsonl is an English cross-lingual retrieval evaluation set: 150
questions from the CMRC 2018 trial set (simplified Chinese, SQuAD format),
translated into English by hand. This script does NOT contain or produce the
translations; it only

  * selects the questions deterministically and prints them (id, Chinese
    question, paragraph title, gold answer) to help the translator, and
  * validates the hand-written JSONL file against the source and the selection.

Usage:
  python3 make_cmrc_trial_en.py              # print the selection
  python3 make_cmrc_trial_en.py --validate   # validate cmrc_trial_en.jsonl
  options: --source PATH  --out PATH

Selection rule (deterministic, file order, standard library only):
  1. A question is a candidate if it is non-empty, contains no deictic
     reference to the passage (文中, 本文, 本段, 该/此/这 ..., see DEICTIC) and
     is not in the hand-made EXCLUDE list (questions whose meaning is unclear
     without the paragraph, or which make no sense once translated, e.g.
     "what is the English name of X").
  2. Round 1: for each paragraph in file order, take the first candidate that
     names the paragraph's topic (its title without a trailing "(...)"
     disambiguator, or the last part of a "·"-separated personal name), so
     that the question can stand on its own as a retrieval query. Questions
     asking for an alias / abbreviation / former name (NAME_QUESTION) are
     taken only if the paragraph has no other such candidate.
  3. Only if round 1 gives fewer than N questions: for each paragraph in file
     order that has no pick yet, take its first candidate; then take further
     title-naming candidates (a second question per paragraph, file order).
  4. Stop at N = 150; the output keeps file order.
"""

import argparse
import json
import os
import re
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SOURCE = "/work/shared/datasets/cmrc2018/cmrc2018_trial.json"
DEFAULT_OUT = os.path.join(HERE, "cmrc_trial_en.jsonl")
N = 150
FIELDS = ("id", "question", "lang", "question_zh", "doc", "answers", "source")

# References to the passage itself, or to "this/that X" whose referent is only
# clear from the paragraph.
DEICTIC = re.compile(
    r"文中|本文|本段|该段|这段|上文|下文|文章|段落|原文|材料|上述|以上|下列|如下"
    r"|该|此|这|那些|其"
    r"|本(?:剧|届|书|鱼|作|片|赛事|年|列表|站|校|院|线|曲|专辑|公司|品牌|计划|条约)"
)

# Hand-made exclusions (checked by reading the question with its paragraph).
EXCLUDE = {
    # asks for the English / foreign-language form of a name: the English
    # translation would contain (or trivialise) the answer
    "TRIAL_345_QUERY_0",  # 西贡商业信用银行的英文名是什么？
    "TRIAL_336_QUERY_0",  # 越南投资发展银行的英文名是什么？
    "TRIAL_12_QUERY_0",  # 德国环境与自然保护联盟的英文是什么？
    "TRIAL_890_QUERY_0",  # 温泉关的音译是什么？ (Thermopylae)
    "TRIAL_161_QUERY_2",  # 耶利米的希伯来文是什么？
    "TRIAL_274_QUERY_2",  # 什么是Gtk♯？ (gold answer is wiki markup)
    # the question is about a Chinese word/character form, meaningless in English
    "TRIAL_839_QUERY_1",  # 赛里木是哪一种语言的音译？
    "TRIAL_556_QUERY_1",  # 刺角瓜为什么又叫"角瓜"？
    "TRIAL_739_QUERY_2",  # "姓"和"氏"是怎么渐渐合一的？
    # question and gold answer do not match / garbled in the source
    "TRIAL_959_QUERY_0",  # 鬼室福信是怎么死的？ (answer is a bio, not a death)
    "TRIAL_282_QUERY_2",  # 20此球队何时首次升级...
    "TRIAL_263_QUERY_1",  # 苹果状西番莲被当作什么/
    "TRIAL_235_QUERY_1",  # 为什么称猴面包树为笨蛋水果？ (answer is nutrition facts)
    "TRIAL_352_QUERY_1",  # 硬枝黄蝉的名称是怎么来的？ (explains a Chinese name)
}

# "What is X also called / short for / originally named?" questions: the
# answers are mostly Chinese alternative names, so they are poor English
# queries. They are only used when a paragraph offers nothing else.
NAME_QUESTION = re.compile(r"别名|别称|又名|又称|又被称|俗名|简称|原名|英文名|音译")


def norm(s):
    return unicodedata.normalize("NFKC", s).replace("·", "").replace("‧", "").replace(" ", "").lower()


def anchors(title):
    """Strings that identify the paragraph topic inside a question."""
    base = re.sub(r"\s*[\(（][^()（）]*[\)）]\s*$", "", title).strip()
    out = {norm(base)}
    parts = [p for p in re.split(r"[·‧]", base) if p.strip()]
    if len(parts) > 1 and len(parts[-1].strip()) >= 2:
        out.add(norm(parts[-1]))
    return {a for a in out if a}


def names_topic(question, title):
    q = norm(question)
    return any(a in q for a in anchors(title))


def is_candidate(qa):
    q = qa["question"].strip()
    return bool(q) and not DEICTIC.search(q) and qa["id"] not in EXCLUDE


def load_source(path):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)["data"]
    paras = []  # (paragraph id, title, [qa, ...]) in file order
    for art in data:
        for p in art["paragraphs"]:
            paras.append((p["id"], art["title"], p["qas"]))
    return paras


def gold_answers(qa):
    seen = []
    for a in qa["answers"]:
        if a["text"] not in seen:
            seen.append(a["text"])
    return seen


def select(paras, n=N):
    order = {}
    for pi, (_pid, _title, qas) in enumerate(paras):
        for qi, qa in enumerate(qas):
            order[qa["id"]] = (pi, qi)
    picked = []  # list of (pid, title, qa)
    used_q, used_p = set(), set()

    def take(pid, title, qa):
        picked.append((pid, title, qa))
        used_q.add(qa["id"])
        used_p.add(pid)

    # round 1: first topic-naming candidate per paragraph (name questions last)
    for pid, title, qas in paras:
        if len(picked) >= n:
            break
        cands = [qa for qa in qas if is_candidate(qa) and names_topic(qa["question"], title)]
        cands.sort(key=lambda qa: bool(NAME_QUESTION.search(qa["question"])))  # stable
        if cands:
            take(pid, title, cands[0])
    # round 2: first candidate of paragraphs still without a pick
    for pid, title, qas in paras:
        if len(picked) >= n:
            break
        if pid in used_p:
            continue
        for qa in qas:
            if is_candidate(qa):
                take(pid, title, qa)
                break
    # round 3: further topic-naming candidates, one more per paragraph per pass
    while len(picked) < n:
        added = False
        for pid, title, qas in paras:
            if len(picked) >= n:
                break
            for qa in qas:
                if qa["id"] not in used_q and is_candidate(qa) and names_topic(qa["question"], title):
                    take(pid, title, qa)
                    added = True
                    break
        if not added:
            break
    picked.sort(key=lambda t: order[t[2]["id"]])
    return picked


def print_selection(picked):
    for i, (_pid, title, qa) in enumerate(picked, 1):
        print(f"{i:3d}\t{qa['id']}\t{title}\t{qa['question']}\t=> {' | '.join(gold_answers(qa))}")
    print(f"# {len(picked)} questions from {len({p for p, _, _ in picked})} paragraphs")


CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def validate(paras, picked, out_path):
    errors, warnings = [], []
    by_id = {}
    for pid, title, qas in paras:
        for qa in qas:
            by_id[qa["id"]] = (pid, title, qa)
    rows = _read_rows(out_path, errors)
    if len(rows) != N:
        errors.append(f"expected {N} lines, found {len(rows)}")
    seen_ids, seen_q = set(), {}
    for ln, r in rows:
        _check_row(ln, r, by_id, seen_ids, seen_q, errors, warnings)
    _check_selection(rows, picked, errors, warnings)
    n_docs = len({r.get("doc") for _, r in rows})
    for w in warnings:
        print("WARNING:", w)
    for e in errors:
        print("ERROR:", e)
    print(
        f"{out_path}: {len(rows)} lines, {len(seen_ids)} unique ids, {n_docs} paragraphs, "
        f"{len(errors)} errors, {len(warnings)} warnings"
    )
    print("OK" if not errors else "FAILED")
    return not errors


def _read_rows(out_path, errors):
    rows = []
    with open(out_path, encoding="utf-8") as f:
        for ln, line in enumerate(f, 1):
            if not line.strip():
                errors.append(f"line {ln}: empty line")
                continue
            try:
                rows.append((ln, json.loads(line)))
            except json.JSONDecodeError as e:
                errors.append(f"line {ln}: invalid JSON ({e})")
    return rows


def _check_row(ln, r, by_id, seen_ids, seen_q, errors, warnings):
    """One line against its source question; ``seen_ids``/``seen_q`` collect ids and questions."""
    missing = [k for k in FIELDS if k not in r]
    extra = [k for k in r if k not in FIELDS]
    if missing:
        errors.append(f"line {ln}: missing fields {missing}")
        return
    if extra:
        warnings.append(f"line {ln}: extra fields {extra}")
    qid = r["id"]
    if qid in seen_ids:
        errors.append(f"line {ln}: duplicate id {qid}")
    seen_ids.add(qid)
    if qid not in by_id:
        errors.append(f"line {ln}: id {qid} not in source")
        return
    pid, _title, qa = by_id[qid]
    if r["doc"] != pid:
        errors.append(f"line {ln}: doc {r['doc']!r} != {pid!r}")
    if r["question_zh"] != qa["question"]:
        errors.append(f"line {ln}: question_zh differs from source")
    if r["answers"] != gold_answers(qa):
        errors.append(f"line {ln}: answers differ from source")
    if r["lang"] != "en":
        errors.append(f"line {ln}: lang must be 'en'")
    if r["source"] != "cmrc2018_trial":
        errors.append(f"line {ln}: source must be 'cmrc2018_trial'")
    _check_question(ln, r["question"], seen_q, errors, warnings)


def _check_question(ln, q, seen_q, errors, warnings):
    if not isinstance(q, str) or not q.strip():
        errors.append(f"line {ln}: empty English question")
        return
    if q != q.strip():
        errors.append(f"line {ln}: question has leading/trailing whitespace")
    if CJK.search(q):
        warnings.append(f"line {ln}: CJK characters in English question: {q}")
    key = q.strip().lower()
    if key in seen_q:
        errors.append(f"line {ln}: same English question as line {seen_q[key]}")
    seen_q[key] = ln


def _check_selection(rows, picked, errors, warnings):
    expected = [qa["id"] for _, _, qa in picked]
    got = [r.get("id") for _, r in rows]
    if set(got) != set(expected):
        errors.append(
            f"ids differ from the selection: {len(set(expected) - set(got))} missing, "
            f"{len(set(got) - set(expected))} unexpected"
        )
    elif got != expected:
        warnings.append("ids are not in selection (file) order")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source", default=DEFAULT_SOURCE)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--validate", action="store_true", help="validate the JSONL file instead of printing")
    args = ap.parse_args()
    paras = load_source(args.source)
    picked = select(paras)
    if args.validate:
        sys.exit(0 if validate(paras, picked, args.out) else 1)
    print_selection(picked)


if __name__ == "__main__":
    main()
