"""Eval data in the formats people have: SQuAD 1.1/2.0, XQuAD/MLQA (aligned files), BEIR. Small
fixture files are written by the tests; every malformed input is one error naming file, record,
field."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from eval.datasets import DATASETS_DIR, load_jsonl, resolve_dataset
from eval.runner import run_dataset
from eval.squad import content_id
from rag.errors import ConfigError
from rag.pipeline import Assistant
from rag.textnorm import to_traditional

# Three aligned paragraphs (XQuAD style: same question ids in every language, no paragraph ids).
ZH = [
    (
        "四川省成功创建49个省级现代服务业集聚区，其中10个集聚区受到通报表扬。",
        [("q1", "四川省创建了多少个省级现代服务业集聚区？", "49个")],
    ),
    (
        "武侯区产业园区高质量发展大会于2024年3月15日在成都召开，会议发布了新的产业政策。",
        [("q2", "武侯区产业园区高质量发展大会是哪天召开的？", "2024年3月15日")],
    ),
    (
        "成渝地区双城经济圈建设领导小组由省委书记担任组长，办公室设在省发展改革委。",
        [("q3", "成渝地区双城经济圈建设领导小组的办公室设在哪里？", "省发展改革委")],
    ),
]
EN = [
    (
        "Sichuan has established 49 provincial modern service industry clusters, 10 of which were commended.",
        [("q1", "How many provincial modern service industry clusters has Sichuan established?", "49")],
    ),
    (
        "The Wuhou District industrial park conference was held in Chengdu on 15 March 2024.",
        [("q2", "When was the Wuhou District industrial park conference held?", "15 March 2024")],
    ),
    (
        "The leading group office for the Chengdu-Chongqing economic circle is in the provincial DRC.",
        [("q3", "Where is the office of the Chengdu-Chongqing leading group?", "the provincial DRC")],
    ),
]


def squad_file(
    path: Path, paragraphs, *, ids: bool = False, impossible: dict[str, str] | None = None
) -> Path:
    """A SQuAD-format file; ``impossible`` adds SQuAD 2.0 unanswerable questions (id -> question)."""
    out = []
    for n, (context, qas) in enumerate(paragraphs):
        rows = [
            {"id": qid, "question": q, "answers": [{"text": a, "answer_start": context.find(a)}]}
            for qid, q, a in qas
        ]
        if impossible and n == 0:
            rows += [
                {"id": qid, "question": q, "answers": [], "is_impossible": True}
                for qid, q in impossible.items()
            ]
        paragraph = {"context": context, "qas": rows} | ({"id": f"P{n}"} if ids else {})
        out.append(paragraph)
    path.write_text(
        json.dumps({"version": "1.1", "data": [{"title": "t", "paragraphs": out}]}, ensure_ascii=False),
        encoding="utf-8",
    )
    return path


def traditional(paragraphs):
    return [
        (to_traditional(context), [(qid, to_traditional(q), to_traditional(a)) for qid, q, a in qas])
        for context, qas in paragraphs
    ]


@pytest.fixture
def xquad(tmp_path) -> dict[str, Path]:
    return {
        "zh": squad_file(tmp_path / "xquad.zh.json", ZH),
        "zh-Hant": squad_file(tmp_path / "xquad.zh-Hant.json", traditional(ZH)),
        "en": squad_file(tmp_path / "xquad.en.json", EN),
    }


def test_squad_paragraphs_without_ids_get_stable_ids_from_their_text(tmp_path, xquad):
    first = resolve_dataset(str(xquad["zh"]), data_dir=tmp_path / "data")
    again = resolve_dataset(str(xquad["zh"]), data_dir=tmp_path / "data")
    assert [i.doc for i in first.items] == [i.doc for i in again.items] == [content_id(c) for c, _ in ZH]
    assert [i.lang for i in first.items] == ["zh-Hans"] * 3
    corpus = first.corpus[0]
    assert sorted(p.stem for p in corpus.glob("*.txt")) == sorted(content_id(c) for c, _ in ZH)
    assert (corpus / f"{content_id(ZH[0][0])}.txt").read_text(encoding="utf-8") == ZH[0][0]
    hant = resolve_dataset(str(xquad["zh-Hant"]), data_dir=tmp_path / "data")
    assert [i.lang for i in hant.items] == ["zh-Hant"] * 3
    assert hant.items[0].answer == (("49個",),) and hant.items[0].squad_answers == ("49個",)


def test_explicit_paragraph_ids_are_kept(tmp_path):
    path = squad_file(tmp_path / "cmrc-like.json", ZH, ids=True)
    assert [i.doc for i in resolve_dataset(str(path), data_dir=tmp_path).items] == ["P0", "P1", "P2"]


def test_squad2_impossible_questions_become_unanswerable_items(tmp_path):
    path = squad_file(tmp_path / "squad2.json", ZH, impossible={"u1": "四川省2035年的GDP目标是多少？"})
    items = {i.id: i for i in resolve_dataset(str(path), data_dir=tmp_path).items}
    u = items["u1"]
    assert (u.answerable, u.doc, u.evidence, u.answer, u.squad_answers) == (False, None, (), (), ())
    assert "unanswerable" in u.tags and items["q1"].answerable


def test_xquad_english_questions_over_chinese_contexts(tmp_path, xquad):
    spec = f"xquad:{xquad['en']},{xquad['zh']}"
    dataset = resolve_dataset(spec, data_dir=tmp_path / "data")
    assert dataset.name == "xquad.en-over-xquad.zh"
    q1 = dataset.items[0]
    assert q1.question == EN[0][1][0][1] and q1.lang == "en"
    assert q1.doc == content_id(ZH[0][0]) and q1.squad_answers == ("49个",)  # gold from the context file
    assert all("cross_lingual" in i.tags for i in dataset.items)
    assert sorted(p.read_text(encoding="utf-8") for p in dataset.corpus[0].glob("*.txt")) == sorted(
        c for c, _ in ZH
    )
    # MLQA spelling of the same spec; same-language pairs carry no cross_lingual tag.
    same = resolve_dataset(f"mlqa:{xquad['zh-Hant']},{xquad['zh']}", data_dir=tmp_path / "data")
    assert [i.lang for i in same.items] == ["zh-Hant"] * 3 and not any(i.tags for i in same.items)


def test_misaligned_xquad_files_name_the_unmatched_question(tmp_path, xquad):
    fewer = squad_file(tmp_path / "fewer.json", EN[:2])
    with pytest.raises(
        ConfigError, match=r"qas\[0\]: field 'id': question 'q3' has no counterpart in .*fewer"
    ):
        resolve_dataset(f"xquad:{fewer},{xquad['zh']}", data_dir=tmp_path)
    other = squad_file(tmp_path / "other.json", [("text", [("x1", "what?", "text")])])
    with pytest.raises(ConfigError, match="share no question ids"):
        resolve_dataset(f"xquad:{other},{xquad['zh']}", data_dir=tmp_path)
    with pytest.raises(ConfigError, match="expected xquad:QUESTIONS.json,CONTEXTS.json"):
        resolve_dataset(f"xquad:{xquad['en']}", data_dir=tmp_path)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"version": "1"}, r"top level: missing field 'data'"),
        ({"data": [{"paragraphs": [{"qas": []}]}]}, r"data\[0\]\.paragraphs\[0\]: missing field 'context'"),
        (
            {"data": [{"paragraphs": [{"context": "四川", "qas": [{"question": "几个？", "answers": []}]}]}]},
            r"data\[0\]\.paragraphs\[0\]\.qas\[0\]: missing field 'id'",
        ),
        (
            {"data": [{"paragraphs": [{"context": "四川", "qas": [{"id": "a", "question": "几个？"}]}]}]},
            r"qas\[0\]: missing field 'answers'",
        ),
        (
            {
                "data": [
                    {
                        "paragraphs": [
                            {"context": "四川", "qas": [{"id": "a", "question": "q", "answers": []}]}
                        ]
                    }
                ]
            },
            r"qas\[0\]: field 'answers' has no non-empty text \(mark unanswerable questions is_impossible",
        ),
        (
            {
                "data": [
                    {"paragraphs": [{"context": "c", "qas": [{"id": "a", "question": "q", "answers": [{}]}]}]}
                ]
            },
            r"qas\[0\]\.answers\[0\]: missing field 'text'",
        ),
        (
            {"data": [{"paragraphs": [{"context": 3, "qas": []}]}]},
            r"paragraphs\[0\]: field 'context' must be a string; got int",
        ),
        (
            {
                "data": [
                    {
                        "paragraphs": [
                            {"context": "c", "qas": [{"id": "a", "question": "q", "is_impossible": "yes"}]}
                        ]
                    }
                ]
            },
            r"qas\[0\]: field 'is_impossible' must be true or false; got a string",
        ),
    ],
)
def test_malformed_squad_files_name_file_record_and_field(tmp_path, data, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"bad\.json: .*{message}"):
        resolve_dataset(str(path), data_dir=tmp_path)


def test_invalid_json_names_line_and_column(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"data": [\n  {"paragraphs": ]}', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"broken\.json: line 2 column 18: not valid JSON"):
        resolve_dataset(str(path), data_dir=tmp_path)


def write_beir(folder: Path) -> Path:
    (folder / "qrels").mkdir(parents=True)
    docs = [
        {"_id": "d1", "title": "集聚区", "text": "四川省成功创建49个省级现代服务业集聚区。"},
        {"_id": "d2", "title": "", "text": "武侯区产业园区高质量发展大会于2024年3月15日召开。"},
        {"_id": "d/3", "text": "成渝地区双城经济圈建设领导小组办公室设在省发展改革委。"},
        {"_id": "d4", "text": "成都市推进生活性服务业发展，建设国际消费中心城市。"},
    ]
    queries = [
        {"_id": "q1", "text": "四川省创建了多少个省级现代服务业集聚区？"},
        {"_id": "q2", "text": "When was the Wuhou District industrial park conference held?"},
        {"_id": "q3", "text": "领导小组办公室设在哪里？"},
        {"_id": "q4", "text": "没有相关文件的问题"},
    ]
    (folder / "corpus.jsonl").write_text(
        "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8"
    )
    (folder / "queries.jsonl").write_text(
        "".join(json.dumps(q, ensure_ascii=False) + "\n" for q in queries), encoding="utf-8"
    )
    (folder / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t2\nq3\td/3\t1\nq3\td4\t1\nq4\td4\t0\n",
        encoding="utf-8",
    )
    return folder


def test_beir_sets_rank_documents_and_skip_queries_without_relevant_ones(tmp_path):
    folder = write_beir(tmp_path / "mini-beir")
    dataset = resolve_dataset(f"beir:{folder}", data_dir=tmp_path / "data")
    assert dataset.retrieval_only and dataset.name == "mini-beir"
    assert [(i.id, i.relevant_docs) for i in dataset.items] == [
        ("q1", ("d1",)),
        ("q2", ("d2",)),
        ("q3", ("d_3", "d4")),
    ]
    assert dataset.notes == ["1 queries without a relevant document in qrels/test.tsv left out"]
    assert (dataset.corpus[0] / "d1.txt").read_text(encoding="utf-8").startswith("集聚区\n\n四川省")
    assert resolve_dataset(str(folder), data_dir=tmp_path / "data").items == dataset.items  # a bare folder


@pytest.mark.parametrize(
    ("file", "content", "message"),
    [
        (
            "corpus.jsonl",
            '{"_id": "d1", "text": "a"}\n{"text": "b"}\n',
            r"corpus\.jsonl:2: missing field '_id'",
        ),
        (
            "corpus.jsonl",
            '{"_id": "d1", "text": "a"}\n{"_id": "d1", "text": "b"}\n',
            r"corpus\.jsonl:2: field '_id': 'd1' repeats",
        ),
        ("queries.jsonl", '{"_id": "q1", "text": 5}\n', r"queries\.jsonl:1: field 'text' must be"),
        ("queries.jsonl", "{nope\n", r"queries\.jsonl:1: not valid JSON"),
        ("qrels/test.tsv", "q1\td1\n", r"test\.tsv:1: expected 3 tab-separated columns"),
        ("qrels/test.tsv", "q1\tzzz\t1\n", r"test\.tsv:1: column 'corpus-id': 'zzz' is not in corpus\.jsonl"),
        ("qrels/test.tsv", "q9\td1\t1\n", r"test\.tsv:1: column 'query-id': 'q9' is not in queries\.jsonl"),
        ("qrels/test.tsv", "q1\td1\thigh\n", r"test\.tsv:1: column 'score' must be a number"),
    ],
)
def test_malformed_beir_files_name_file_line_and_field(tmp_path, file, content, message):
    folder = write_beir(tmp_path / "set")
    if not file.startswith("qrels"):
        (folder / "qrels" / "test.tsv").write_text("q1\td1\t1\n", encoding="utf-8")
    (folder / file).write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        resolve_dataset(f"beir:{folder}", data_dir=tmp_path / "data")


def test_our_jsonl_errors_name_line_and_field(tmp_path):
    good = (DATASETS_DIR / "sichuan.jsonl").read_text(encoding="utf-8").splitlines()[0]
    row = json.loads(good)
    cases = [
        ({k: v for k, v in row.items() if k != "doc"}, r":2: missing field 'doc'"),
        (row | {"lang": "fr"}, r":2: field 'lang' must be one of"),
        (row | {"answer": ["49"]}, r":2: field 'answer' must be a list of lists"),
        (row | {"answerable": "yes"}, r":2: field 'answerable' must be true or false"),
        (row, r":2: field 'id': 'sc-001' repeats .*:1"),
    ]
    for data, message in cases:
        path = tmp_path / "set.jsonl"
        path.write_text(good + "\n" + json.dumps(data, ensure_ascii=False) + "\n", encoding="utf-8")
        with pytest.raises(ConfigError, match=message):
            load_jsonl(path)


def test_unknown_specs_list_what_is_accepted(tmp_path):
    with pytest.raises(ConfigError, match=r"no dataset named 'nope'.*xquad:QUESTIONS\.json,CONTEXTS\.json"):
        resolve_dataset("nope", data_dir=tmp_path)


def run(dataset, make_kb):
    kb = make_kb()
    return run_dataset(dataset, kb.settings, assistant=Assistant(kb.settings, kb=kb))


def test_xquad_squad2_and_aligned_sets_run_through_the_eval(tmp_path, xquad, make_kb):
    data = tmp_path / "data"
    for spec, lang in (
        (str(xquad["zh"]), "zh-Hans"),
        (str(xquad["zh-Hant"]), "zh-Hant"),
        (f"xquad:{xquad['en']},{xquad['zh']}", "en"),
    ):
        results, summary = run(resolve_dataset(spec, data_dir=data), make_kb)
        assert [r.lang for r in results] == [lang] * 3, spec
        assert summary["metrics"]["n"] == 3 and summary["metrics"]["hit@10"] is not None
        assert summary["metrics"]["exact_match"] is not None and "hit@10" in summary["intervals"]["metrics"]
        assert all(r.retrieved for r in results)
    squad2 = squad_file(tmp_path / "squad2.json", ZH, impossible={"u1": "四川省2035年的GDP目标是多少？"})
    results, summary = run(resolve_dataset(str(squad2), data_dir=data), make_kb)
    unanswerable = next(r for r in results if r.id == "u1")
    assert not unanswerable.answerable and "hit@1" not in unanswerable.metrics
    assert summary["metrics"]["unanswerable_abstention"] in (0.0, 1.0)


def test_beir_runs_retrieval_metrics_only(tmp_path, make_kb):
    dataset = resolve_dataset(f"beir:{write_beir(tmp_path / 'b')}", data_dir=tmp_path / "data")
    results, summary = run(dataset, make_kb)
    assert [r.id for r in results] == ["q1", "q2", "q3"]
    assert all(r.answer == "" and not r.citations for r in results)
    assert set(results[0].metrics) == {"hit@1", "hit@3", "hit@5", "hit@10", "mrr@10", "ndcg@10"}
    assert summary["metrics"]["answer_correct"] is None and summary["metrics"]["hit@10"] == 1.0
    q3 = results[2]
    assert len({r["doc_id"] for r in q3.retrieved}) == len(q3.retrieved)  # ranked per document
    assert {r["doc_id"] for r in q3.retrieved if r["relevant"]} == {"d_3", "d4"}


@pytest.mark.slow
@pytest.mark.integration
def test_rag_eval_runs_the_standard_formats_for_real(tmp_path, xquad, monkeypatch, capsys):
    """`rag eval` itself (packaged model, on-disk Chroma) over XQuAD in both scripts, English
    questions over Chinese contexts, a SQuAD 2.0 file with an impossible question and a BEIR set."""
    from cli.main import main
    from rag.settings import load_settings

    models = load_settings().models_dir
    data = tmp_path / "data"
    data.mkdir()
    if models.is_dir():
        (data / "models").symlink_to(models, target_is_directory=True)
    monkeypatch.setenv("RAG_DATA_DIR", str(data))
    monkeypatch.setenv("RAG_PROGRESS", "false")
    monkeypatch.delenv("RAG_CONFIG", raising=False)
    squad2 = squad_file(tmp_path / "squad2.json", ZH, impossible={"u1": "四川省2035年的GDP目标是多少？"})
    beir = write_beir(tmp_path / "mini-beir")
    specs = {
        "xquad.zh": str(xquad["zh"]),
        "xquad.zh-Hant": str(xquad["zh-Hant"]),
        "xquad.en-over-xquad.zh": f"xquad:{xquad['en']},{xquad['zh']}",
        "squad2": str(squad2),
        "mini-beir": f"beir:{beir}",
    }
    summaries = {}
    for name, spec in specs.items():
        out = tmp_path / "runs" / name
        assert main(["eval", "--dataset", spec, "--out", str(out)]) == 0, name
        printed = capsys.readouterr().out
        assert f"dataset {name}:" in printed and "95% CI" in printed
        summaries[name] = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        assert (out / "report.html").is_file()
    for name in ("xquad.zh", "xquad.zh-Hant", "xquad.en-over-xquad.zh"):
        metrics = summaries[name]["metrics"]
        assert metrics["n"] == 3 and metrics["hit@5"] == 1.0, (name, metrics)  # 3 paragraphs: always found
        assert metrics["exact_match"] is not None
    assert set(summaries["xquad.en-over-xquad.zh"]["by_lang"]) == {"en"}
    assert set(summaries["xquad.zh-Hant"]["by_lang"]) == {"zh-Hant"}
    assert summaries["squad2"]["metrics"]["n"] == 4
    assert summaries["squad2"]["metrics"]["unanswerable_abstention"] is not None
    beir_metrics = summaries["mini-beir"]["metrics"]
    assert beir_metrics["n"] == 3 and beir_metrics["answer_correct"] is None
    assert beir_metrics["hit@10"] == 1.0 and 0 < beir_metrics["ndcg@10"] <= 1


def test_an_item_may_carry_a_filter_and_a_bad_one_names_the_field():
    from eval.datasets import parse_item
    from rag.errors import ConfigError

    base = {"id": "x", "question": "q", "lang": "zh-Hans", "doc": None, "evidence": [], "answer": []}
    base["answerable"] = False
    assert parse_item(base | {"filter": " type=通知; since=2020 "}, "l1").filter == "type=通知; since=2020"
    assert parse_item(base, "l1").filter == ""
    with pytest.raises(ConfigError, match=r"l2: field 'filter': .*'publisher=x'"):
        parse_item(base | {"filter": "publisher=x"}, "l2")


def test_the_development_set_loads_by_name(tmp_path):
    dataset = resolve_dataset("sichuan-dev", data_dir=tmp_path)
    items = dataset.items
    assert dataset.name == "sichuan-dev" and dataset.corpus is None  # the bundled corpus, like the gate
    assert len(items) == 90 and [i.id for i in items] == [f"dev-{n:03d}" for n in range(1, 91)]
    for lang in ("zh-Hans", "zh-Hant", "en"):
        mine = [i for i in items if i.lang == lang]
        assert len(mine) == 30 and sum(not i.answerable for i in mine) == 6, lang
    gate = resolve_dataset("sichuan", data_dir=tmp_path).items
    assert not {i.question for i in items} & {i.question for i in gate}


def _checker():
    import importlib.util

    spec = importlib.util.spec_from_file_location("check_sichuan", DATASETS_DIR / "check_sichuan.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being defined
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


@pytest.mark.parametrize("name", ["sichuan.jsonl", "sichuan_dev.jsonl"])
def test_both_sichuan_sets_pass_their_checker(name, capsys):
    assert _checker().main([name]) == 0
    assert capsys.readouterr().out.rstrip().endswith("OK")


def test_the_checker_holds_the_development_set_to_its_own_balance(tmp_path, capsys):
    lines = (DATASETS_DIR / "sichuan_dev.jsonl").read_text(encoding="utf-8").splitlines()
    row = json.loads(lines[0]) | {"evidence": ["四川省人民政府办公厅2020-06-01"]}  # no English span
    broken = tmp_path / "sichuan_dev.jsonl"
    broken.write_text("\n".join([json.dumps(row, ensure_ascii=False), *lines[1:-1]]) + "\n", encoding="utf-8")
    assert _checker().main([str(broken)]) == 1
    out = capsys.readouterr().out
    assert "(dev-001): evidence for bilingual 000_2d3ce4a55c8786ef needs a Chinese and an English span" in out
    assert "29 en questions, want 30" in out and "5 unanswerable en questions, want 6" in out
