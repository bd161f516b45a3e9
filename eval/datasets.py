"""Eval datasets: our JSONL format, and SQuAD-format files adapted to it (paragraph = document)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import ConfigError
from rag.settings import PROJECT_ROOT

DATASETS_DIR = PROJECT_ROOT / "eval" / "datasets"
SHARED_DATASETS = PROJECT_ROOT.parent / "shared" / "datasets"
LANGS = ("zh-Hans", "zh-Hant", "en")
# Questions that only make sense next to their paragraph ("in this text …") are left out.
_DEICTIC = re.compile(r"文中|本文|本段|该段|這段|这段|上文|此段|文章")


@dataclass(frozen=True)
class EvalItem:
    id: str
    question: str
    lang: str
    doc: str | None
    evidence: tuple[str, ...]
    answer: tuple[tuple[str, ...], ...]
    answerable: bool
    tags: tuple[str, ...] = ()
    squad_answers: tuple[str, ...] = ()  # gold spans, for exact match / token F1


@dataclass(frozen=True)
class Dataset:
    name: str
    items: list[EvalItem]
    corpus: list[Path] | None  # None: the configured corpus (the bundled one by default)
    source: str = ""
    notes: list[str] = field(default_factory=list)


def parse_item(data: dict, where: str) -> EvalItem:
    required = ("id", "question", "lang", "doc", "evidence", "answer", "answerable")
    missing = [k for k in required if k not in data]
    if missing:
        raise ConfigError(f"{where}: missing field(s) {', '.join(missing)}")
    if data["lang"] not in LANGS:
        raise ConfigError(f"{where}: lang must be one of {', '.join(LANGS)}; got {data['lang']!r}")
    answer = data["answer"]
    if not isinstance(answer, list) or not all(isinstance(g, list) for g in answer):
        raise ConfigError(f"{where}: answer must be a list of lists of alternatives")
    return EvalItem(
        id=str(data["id"]),
        question=str(data["question"]),
        lang=data["lang"],
        doc=data["doc"],
        evidence=tuple(data["evidence"]),
        answer=tuple(tuple(str(a) for a in group) for group in answer),
        answerable=bool(data["answerable"]),
        tags=tuple(data.get("tags", ())),
        squad_answers=tuple(data.get("answers", ())),
    )


def load_jsonl(path: Path) -> list[EvalItem]:
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}:{number}: not valid JSON: {exc}") from exc
        items.append(parse_item(data, f"{path}:{number}"))
    ids = [i.id for i in items]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"{path}: duplicate question ids")
    return items


def squad_to_dataset(path: Path, corpus_dir: Path, *, name: str) -> Dataset:
    """Each paragraph becomes a document ``<corpus_dir>/<paragraph id>.txt``; each question an item."""
    data = json.loads(path.read_text(encoding="utf-8"))
    corpus_dir.mkdir(parents=True, exist_ok=True)
    items: list[EvalItem] = []
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            doc_id = _safe_id(str(paragraph["id"]))
            target = corpus_dir / f"{doc_id}.txt"
            if not target.exists() or target.read_text(encoding="utf-8") != paragraph["context"]:
                target.write_text(paragraph["context"], encoding="utf-8")
            for qa in paragraph["qas"]:
                question = qa["question"].strip()
                if not question or _DEICTIC.search(question):
                    continue
                golds = tuple(dict.fromkeys(a["text"] for a in qa["answers"] if a["text"].strip()))
                items.append(
                    EvalItem(
                        str(qa["id"]),
                        question,
                        _script(question),
                        doc_id,
                        golds,
                        (golds,),
                        True,
                        squad_answers=golds,
                    )
                )
    return Dataset(name, items, [corpus_dir], source=str(path))


def _script(text: str) -> str:
    from rag.textnorm import detect_language

    return detect_language(text)


def _safe_id(raw: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", raw)


def resolve_dataset(spec: str, *, data_dir: Path) -> Dataset:
    """A dataset by name (sichuan, cmrc, drcd, cmrc-en) or path (our JSONL, or a SQuAD JSON file)."""
    corpora = data_dir / "eval" / "corpora"
    named = {
        "sichuan": lambda: Dataset("sichuan", load_jsonl(DATASETS_DIR / "sichuan.jsonl"), None),
        "cmrc": lambda: squad_to_dataset(
            SHARED_DATASETS / "cmrc2018" / "cmrc2018_trial.json", corpora / "cmrc", name="cmrc"
        ),
        "drcd": lambda: squad_to_dataset(
            SHARED_DATASETS / "drcd" / "DRCD_dev.json", corpora / "drcd", name="drcd"
        ),
        "cmrc-en": lambda: _cmrc_english(corpora),
    }
    if spec in named:
        try:
            return named[spec]()
        except FileNotFoundError as exc:
            raise ConfigError(f"dataset {spec!r} needs {exc.filename}, which is missing") from exc
    path = Path(spec)
    if not path.is_file():
        raise ConfigError(f"no dataset named {spec!r} ({', '.join(named)}) and no such file")
    if path.suffix == ".json":
        return squad_to_dataset(path, corpora / _safe_id(path.stem), name=path.stem)
    return Dataset(path.stem, load_jsonl(path), None, source=str(path))


def _cmrc_english(corpora: Path) -> Dataset:
    cmrc = squad_to_dataset(
        SHARED_DATASETS / "cmrc2018" / "cmrc2018_trial.json", corpora / "cmrc", name="cmrc"
    )
    items = []
    for line in (DATASETS_DIR / "cmrc_trial_en.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            golds = tuple(row["answers"])
            items.append(
                EvalItem(
                    row["id"],
                    row["question"],
                    "en",
                    _safe_id(row["doc"]),
                    golds,
                    (golds,),
                    True,
                    tags=("cross_lingual",),
                    squad_answers=golds,
                )
            )
    return Dataset("cmrc-en", items, cmrc.corpus, source="eval/datasets/cmrc_trial_en.jsonl")
