"""``rag eval generate``: draft eval questions from a knowledge base's passages with the configured
LLM, written as JSONL in our format (``eval/datasets/README.md``) for a person to review.

Each answerable draft comes from one passage: the question, an evidence span that must occur in
the passage, and answer groups whose first alternative must occur in it too; drafts that break a
rule are dropped and counted, never repaired by guessing. Near-miss unanswerable questions ask what
a passage almost, but does not, say. Nothing here makes a question trustworthy: the file is a
draft, and every line carries ``"review": "draft"`` until a person has checked it.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eval.items import LANGS
from eval.normalize import contains
from rag.errors import ConfigError, EmptyIndexError, GeneratorError
from rag.prompts import PromptSet, load_prompts
from rag.textnorm import detect_language, to_traditional

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from rag.index import KnowledgeBase
    from rag.settings import Settings

PROMPTS = "testset.v1"
LANGUAGE_NAMES = {
    "zh-Hans": "Simplified Chinese (简体中文)",
    "zh-Hant": "Traditional Chinese (繁體中文)",
    "en": "English",
}
MIN_PASSAGE_CHARS = 40  # shorter chunks (headings, signatures) rarely hold a fact worth asking
_JSON_OBJECT = re.compile(r"\{.*\}", re.S)


@dataclass(frozen=True)
class GenerateOptions:
    n: int = 50
    langs: tuple[str, ...] = LANGS  # cycled through, one language per question
    unanswerable: float = 0.2  # share of near-miss unanswerable questions
    seed: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.n <= 2000:
            raise ValueError(f"--n must be between 1 and 2000; got {self.n}")
        bad = [lang for lang in self.langs if lang not in LANGS]
        if bad or not self.langs:
            raise ValueError(
                f"--lang must be among {', '.join(LANGS)}; got {', '.join(self.langs) or 'none'}"
            )
        if not 0 <= self.unanswerable <= 0.5:
            raise ValueError(f"--unanswerable must be within [0, 0.5]; got {self.unanswerable}")


@dataclass(frozen=True)
class SourcePassage:
    chunk_id: str
    doc_id: str
    title: str
    text: str


@dataclass
class Draft:
    items: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # why each dropped draft was dropped

    def to_jsonl(self) -> str:
        return "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in self.items)


class TestsetGenerator:
    """Drafts questions with any LangChain chat model (``name`` is recorded in every item)."""

    __test__ = False  # not a pytest test class, despite the name

    def __init__(self, model: BaseChatModel, *, name: str, prompts: PromptSet | None = None) -> None:
        self.model, self.name = model, name
        self.prompts = prompts or load_prompts(PROMPTS)

    def generate(
        self,
        passages: list[SourcePassage],
        options: GenerateOptions,
        *,
        progress: Callable[[int], None] | None = None,
    ) -> Draft:
        candidates = sample_passages(passages, seed=options.seed)
        if not candidates:
            raise ConfigError("the knowledge base has no passages long enough to ask about: run `rag ingest`")
        wanted_unanswerable = round(options.n * options.unanswerable)
        plan = [False] * (options.n - wanted_unanswerable) + [True] * wanted_unanswerable
        draft = Draft()
        attempts = 0
        for position, unanswerable in enumerate(plan):
            lang = options.langs[position % len(options.langs)]
            while attempts < 2 * options.n + 5:  # each question may use up a few rejected drafts
                passage = candidates[attempts % len(candidates)]
                attempts += 1
                item, reason = self._one(passage, lang, unanswerable)
                if item is not None:
                    item["id"] = f"gen-{len(draft.items) + 1:03d}"
                    draft.items.append(_ordered(item))
                    break
                draft.rejected.append(f"{passage.chunk_id}: {reason}")
            if progress:
                progress(position + 1)
        return draft

    def _one(self, passage: SourcePassage, lang: str, unanswerable: bool) -> tuple[dict | None, str]:
        key = "unanswerable" if unanswerable else "answerable"
        user = self.prompts.render(
            key,
            language="en",
            doc=escape(passage.doc_id),
            title=escape(passage.title),
            text=escape(passage.text, quote=False),
            target=LANGUAGE_NAMES[lang],
        )
        messages = [("system", self.prompts.render("system", language="en")), ("human", user)]
        try:
            reply = self.model.invoke(messages)
        except Exception as exc:  # a chat model raises its client's errors; one line is enough
            raise GeneratorError(f"the LLM {self.name} failed: {type(exc).__name__}: {exc}") from exc
        data = _json_object(str(reply.content))
        if data is None:
            return None, "the reply is not a JSON object"
        question = data.get("question")
        if not isinstance(question, str) or not question.strip():
            return None, "no question"
        question = _in_script(question.strip(), lang)
        if detect_language(question) != lang:
            return None, f"the question is not in {lang}: {question[:60]!r}"
        base = {
            "question": question,
            "lang": lang,
            "generated": {"chunk_id": passage.chunk_id, "model": self.name, "prompt": self.prompts.version},
            "review": "draft",
        }
        if unanswerable:
            missing = data.get("missing")
            note = missing.strip() if isinstance(missing, str) else ""
            base["generated"]["missing"] = note
            return base | _unanswerable_fields(), ""
        return _answerable(base, data, passage)


def _answerable(base: dict, data: dict, passage: SourcePassage) -> tuple[dict | None, str]:
    evidence = data.get("evidence")
    if not isinstance(evidence, str) or not 4 <= len(evidence.strip()) <= 120:
        return None, "the evidence is missing or not 4-120 characters"
    if not contains(passage.text, evidence):
        return None, f"the evidence is not in the passage: {evidence[:60]!r}"
    groups = data.get("answer")
    if not isinstance(groups, list) or not groups:
        return None, "no answer groups"
    clean: list[list[str]] = []
    for group in groups:
        group = [group] if isinstance(group, str) else group
        if (
            not isinstance(group, list)
            or not group
            or not all(isinstance(a, str) and a.strip() for a in group)
        ):
            return None, "an answer group is not a list of strings"
        if not contains(passage.text, group[0]):
            return None, f"answer {group[0][:40]!r} is not in the passage"
        clean.append(list(dict.fromkeys(a.strip() for a in group)))
    return base | {
        "doc": passage.doc_id,
        "evidence": [evidence.strip()],
        "answer": clean,
        "answerable": True,
        "tags": ["generated"],
    }, ""


def _unanswerable_fields() -> dict[str, Any]:
    return {
        "doc": None,
        "evidence": [],
        "answer": [],
        "answerable": False,
        "tags": ["generated", "unanswerable", "near_miss"],
    }


def _ordered(item: dict[str, Any]) -> dict[str, Any]:
    order = (
        "id",
        "question",
        "lang",
        "doc",
        "evidence",
        "answer",
        "answerable",
        "tags",
        "generated",
        "review",
    )
    return {key: item[key] for key in order if key in item}


def _in_script(question: str, lang: str) -> str:
    """A traditional-Chinese question written in simplified characters is converted (OpenCC)."""
    if lang == "zh-Hant" and detect_language(question) == "zh-Hans":
        return to_traditional(question)
    return question


def _json_object(reply: str) -> dict | None:
    text = re.sub(r"^```(?:json)?\s*|\s*```$", "", reply.strip())
    match = _JSON_OBJECT.search(text)
    if not match:
        return None
    try:
        data = json.loads(match.group(0))
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def sample_passages(passages: list[SourcePassage], *, seed: int) -> list[SourcePassage]:
    """Long-enough passages in a seeded order that takes one passage from each document in turn."""
    by_doc: dict[str, list[SourcePassage]] = {}
    for p in sorted(passages, key=lambda p: p.chunk_id):
        if len(p.text.strip()) >= MIN_PASSAGE_CHARS:
            by_doc.setdefault(p.doc_id, []).append(p)
    rng = random.Random(seed)
    queues = [rng.sample(group, len(group)) for _, group in sorted(by_doc.items())]
    rng.shuffle(queues)
    ordered: list[SourcePassage] = []
    while any(queues):
        for queue in queues:
            if queue:
                ordered.append(queue.pop())
    return ordered


def knowledge_base_passages(kb: KnowledgeBase) -> list[SourcePassage]:
    """Every chunk of the knowledge base once (a bilingual chunk's second record is skipped)."""
    ids = sorted({c.metadata.get("chunk_id", c.chunk_id) for c in kb.store.all_metadata()})
    return [
        SourcePassage(c.chunk_id, c.metadata.get("doc_id", ""), c.metadata.get("title", "") or "", c.text)
        for c in kb.store.get(ids)
    ]


def chat_model_from_settings(settings: Settings) -> tuple[BaseChatModel, str]:
    """The configured LLM, or a ConfigError saying how to configure one."""
    if settings.generator == "local":
        from rag.generate.local import LocalChatModel

        return LocalChatModel.from_settings(settings), f"local:{settings.local_model_path}"
    if settings.llm_model:
        from rag.generate.llm import make_chat_model

        return make_chat_model(settings, streaming=False), settings.llm_model
    raise ConfigError(
        "rag eval generate needs an LLM and none is configured: set generator = 'openai' with llm_model "
        "(and llm_base_url) in rag.toml, or generator = 'local' with local_model_path"
    )


def draft_testset(
    kb: KnowledgeBase,
    model: BaseChatModel,
    options: GenerateOptions,
    *,
    name: str,
    progress: Callable[[int], None] | None = None,
) -> Draft:
    """Draft questions from every passage of ``kb`` (what ``rag eval generate`` runs)."""
    passages = knowledge_base_passages(kb)
    if not passages:
        raise EmptyIndexError(f"knowledge base '{kb.settings.collection}' is empty: run `rag ingest` first")
    return TestsetGenerator(model, name=name).generate(passages, options, progress=progress)


def write_draft(draft: Draft, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(draft.to_jsonl(), encoding="utf-8")
    return path
