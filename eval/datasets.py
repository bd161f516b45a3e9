"""Eval datasets by name or path: our JSONL format (``eval/datasets/README.md``), SQuAD-format files
(SQuAD 1.1/2.0, CMRC, DRCD, XQuAD, MLQA), aligned XQuAD/MLQA pairs and BEIR retrieval sets.

Specs ``rag eval --dataset`` accepts:
- ``sichuan`` (the regression gate), ``sichuan-dev`` (the development set over the same corpus),
  ``archive`` (the policy-archive fixtures: a scan, tables, a repeal), ``cmrc``, ``drcd``,
  ``cmrc-en``: the named sets;
- ``FILE.jsonl``: our format; ``FILE.json``: a SQuAD-format file (one document per paragraph);
- ``xquad:QUESTIONS.json,CONTEXTS.json`` (or ``mlqa:``): the questions of one language over the
  paragraphs and answers of another, matched by question id;
- ``beir:FOLDER`` or ``beir:FOLDER@SPLIT`` (or a folder holding ``corpus.jsonl``): a retrieval set.
"""

from __future__ import annotations

from pathlib import Path

from eval.beir import beir_to_dataset
from eval.items import LANGS, Dataset, EvalItem, get_field, get_text, read_jsonl, safe_id
from eval.squad import aligned_to_dataset, squad_to_dataset
from rag.errors import ConfigError
from rag.filters import make_filter
from rag.settings import PROJECT_ROOT

DATASETS_DIR = PROJECT_ROOT / "eval" / "datasets"
SHARED_DATASETS = PROJECT_ROOT.parent / "shared" / "datasets"
NAMED = ("sichuan", "sichuan-dev", "archive", "cmrc", "drcd", "cmrc-en")

__all__ = ["Dataset", "EvalItem", "LANGS", "load_jsonl", "parse_item", "resolve_dataset", "squad_to_dataset"]


def parse_item(data: object, where: str) -> EvalItem:
    """One line of our JSONL format; a bad field is one error naming it."""
    qid = get_text(data, "id", where, number_ok=True)
    question = get_text(data, "question", where)
    lang = get_field(data, "lang", str, where)
    if lang not in LANGS:
        raise ConfigError(f"{where}: field 'lang' must be one of {', '.join(LANGS)}; got {lang!r}")
    doc = get_field(data, "doc", str, where, default=None)
    if "doc" not in data:  # type: ignore[operator]  # get_field checked it is an object
        raise ConfigError(f"{where}: missing field 'doc' (null for an unanswerable question)")
    evidence = get_field(data, "evidence", list, where)
    if not all(isinstance(e, str) for e in evidence):
        raise ConfigError(f"{where}: field 'evidence' must be a list of strings")
    answer = get_field(data, "answer", list, where)
    if not all(isinstance(g, list) and all(isinstance(a, str) for a in g) for g in answer):
        raise ConfigError(f"{where}: field 'answer' must be a list of lists of alternatives (strings)")
    answerable = get_field(data, "answerable", bool, where)
    tags = get_field(data, "tags", list, where, default=[])
    golds = get_field(data, "answers", list, where, default=[])
    wanted = get_field(data, "filter", str, where, default="")
    try:
        make_filter(where=[wanted])
    except ValueError as exc:
        raise ConfigError(f"{where}: field 'filter': {exc}") from None
    return EvalItem(
        id=qid,
        question=question,
        lang=lang,
        doc=doc,
        evidence=tuple(evidence),
        answer=tuple(tuple(group) for group in answer),
        answerable=answerable,
        tags=tuple(str(t) for t in tags),
        squad_answers=tuple(str(g) for g in golds),
        filter=wanted.strip(),
    )


def load_jsonl(path: Path) -> list[EvalItem]:
    items: list[EvalItem] = []
    seen: dict[str, str] = {}
    for where, data in read_jsonl(path):
        item = parse_item(data, where)
        if item.id in seen:
            raise ConfigError(f"{where}: field 'id': {item.id!r} repeats {seen[item.id]}")
        seen[item.id] = where
        items.append(item)
    if not items:
        raise ConfigError(f"{path}: no questions")
    return items


def resolve_dataset(spec: str, *, data_dir: Path) -> Dataset:
    """A dataset by name or path (see the module docstring for the specs)."""
    corpora = data_dir / "eval" / "corpora"
    named = {
        "sichuan": lambda: Dataset("sichuan", load_jsonl(DATASETS_DIR / "sichuan.jsonl"), None),
        "sichuan-dev": lambda: Dataset("sichuan-dev", load_jsonl(DATASETS_DIR / "sichuan_dev.jsonl"), None),
        "archive": lambda: Dataset(
            "archive", load_jsonl(DATASETS_DIR / "archive.jsonl"), [DATASETS_DIR / "archive"]
        ),
        "cmrc": lambda: squad_to_dataset(
            SHARED_DATASETS / "cmrc2018" / "cmrc2018_trial.json", corpora / "cmrc", name="cmrc"
        ),
        "drcd": lambda: squad_to_dataset(
            SHARED_DATASETS / "drcd" / "DRCD_dev.json", corpora / "drcd", name="drcd"
        ),
        "cmrc-en": lambda: _cmrc_english(corpora),
    }
    if spec in named:
        for needed in _named_files(spec):
            if not needed.is_file():
                raise ConfigError(f"dataset {spec!r} needs {needed}, which is missing")
        return named[spec]()
    kind, sep, rest = spec.partition(":")
    if sep and kind in ("xquad", "mlqa"):
        return _aligned(spec, rest, corpora)
    if sep and kind == "beir":
        folder, _, split = rest.partition("@")
        path = Path(folder)
        return beir_to_dataset(path, corpora / safe_id(path.name), name=path.name, split=split or "test")
    path = Path(spec)
    if path.is_dir() and (path / "corpus.jsonl").is_file():
        return beir_to_dataset(path, corpora / safe_id(path.name), name=path.name)
    if not path.is_file():
        raise ConfigError(
            f"no dataset named {spec!r} ({', '.join(NAMED)}) and no such file; "
            "other specs: FILE.jsonl, FILE.json (SQuAD), xquad:QUESTIONS.json,CONTEXTS.json, beir:FOLDER"
        )
    if path.suffix == ".json":
        return squad_to_dataset(path, corpora / safe_id(path.stem), name=path.stem)
    return Dataset(path.stem, load_jsonl(path), None, source=str(path))


def _named_files(spec: str) -> list[Path]:
    cmrc = SHARED_DATASETS / "cmrc2018" / "cmrc2018_trial.json"
    return {
        "sichuan": [DATASETS_DIR / "sichuan.jsonl"],
        "sichuan-dev": [DATASETS_DIR / "sichuan_dev.jsonl"],
        "archive": [DATASETS_DIR / "archive.jsonl", DATASETS_DIR / "archive" / "plan_2021.txt"],
        "cmrc": [cmrc],
        "drcd": [SHARED_DATASETS / "drcd" / "DRCD_dev.json"],
        "cmrc-en": [cmrc, DATASETS_DIR / "cmrc_trial_en.jsonl"],
    }[spec]


def _aligned(spec: str, rest: str, corpora: Path) -> Dataset:
    parts = [p for p in rest.split(",") if p]
    if len(parts) != 2:
        raise ConfigError(f"{spec!r}: expected {spec.split(':')[0]}:QUESTIONS.json,CONTEXTS.json")
    questions, contexts = Path(parts[0]), Path(parts[1])
    name = f"{questions.stem}-over-{contexts.stem}"
    return aligned_to_dataset(questions, contexts, corpora / safe_id(contexts.stem), name=name)


def _cmrc_english(corpora: Path) -> Dataset:
    cmrc = squad_to_dataset(
        SHARED_DATASETS / "cmrc2018" / "cmrc2018_trial.json", corpora / "cmrc", name="cmrc"
    )
    items = []
    for where, row in read_jsonl(DATASETS_DIR / "cmrc_trial_en.jsonl"):
        golds = tuple(get_field(row, "answers", list, where))
        items.append(
            EvalItem(
                get_text(row, "id", where),
                get_text(row, "question", where),
                "en",
                safe_id(get_text(row, "doc", where)),
                golds,
                (golds,),
                True,
                tags=("cross_lingual",),
                squad_answers=golds,
            )
        )
    return Dataset("cmrc-en", items, cmrc.corpus, source="eval/datasets/cmrc_trial_en.jsonl")
