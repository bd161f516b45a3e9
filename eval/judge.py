"""Optional LLM judge for faithfulness: is each answer sentence supported by the passage(s) it cites?

Faithfulness of one answer = share of its sentences the judge finds supported. The judge is any
LangChain chat model; ``judge_from_settings`` builds an OpenAI-compatible one when ``judge_model``
is set, and returns None otherwise (the summary then says "not measured", never a made-up number).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rag.errors import RagError
from rag.generate.markers import split_cited_clauses
from rag.prompts import PromptSet, load_prompts
from rag.types import Answer, Citation

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from rag.settings import Settings

JUDGE_PROMPTS = "judge.v1"
_VERDICT_WORDS = (
    ("not supported", False),
    ("unsupported", False),
    ("supported", True),
    ("true", True),
    ("false", False),
    ("yes", True),
    ("no", False),
)


class JudgeError(RagError):
    """The LLM judge could not be reached or configured."""


@dataclass(frozen=True)
class Claim:
    """One answer sentence and the citation numbers it carries (empty: it cites nothing)."""

    text: str
    sources: tuple[int, ...]


@dataclass(frozen=True)
class Judgement:
    claims: list[Claim]
    supported: list[bool] | None  # None: the judge failed or its reply could not be read
    reply: str
    error: str | None = None

    @property
    def score(self) -> float | None:
        if not self.supported:
            return None
        return sum(self.supported) / len(self.supported)

    def to_dicts(self) -> list[dict[str, Any]]:
        verdicts = self.supported or [None] * len(self.claims)
        return [
            {"sentence": c.text, "sources": list(c.sources), "supported": v}
            for c, v in zip(self.claims, verdicts, strict=True)
        ]


def split_claims(text: str) -> list[Claim]:
    """Clauses of an answer, each with the markers that close it (``split_cited_clauses``: the
    verifier's sentences and marker parsing, also cut after a marker inside a sentence)."""
    return [Claim(c.text, c.markers) for c in split_cited_clauses(text)]


def parse_verdicts(reply: str, expected: int) -> list[bool] | None:
    """``expected`` verdicts from the judge's reply: a JSON list of booleans (or yes/no words), or
    one verdict per line. None when the reply does not hold exactly that many."""
    if expected < 1:
        raise ValueError(f"expected must be at least 1; got {expected}")
    for candidate in re.findall(r"\[[^\[\]]*\]", reply):
        try:
            items = json.loads(re.sub(r"\bTrue\b|\bFalse\b", lambda m: m.group(0).lower(), candidate))
        except json.JSONDecodeError:
            continue
        verdicts = [_verdict(item) for item in items] if isinstance(items, list) else []
        if len(verdicts) == expected and all(v is not None for v in verdicts):
            return [bool(v) for v in verdicts]
    lines = [_verdict(line) for line in reply.splitlines()]
    verdicts = [v for v in lines if v is not None]
    return verdicts if len(verdicts) == expected else None


def _verdict(item: object) -> bool | None:
    if isinstance(item, bool):
        return item
    if not isinstance(item, str):
        return None
    text = item.strip().lower()
    for word, value in _VERDICT_WORDS:
        if re.search(rf"(?<![a-z]){word}(?![a-z])", text):
            return value
    return None


class FaithfulnessJudge:
    """Asks a chat model, once per answer, which sentences their cited passages support."""

    def __init__(
        self,
        model: BaseChatModel,
        *,
        name: str = "",
        max_source_chars: int = 2000,
        prompts: PromptSet | None = None,
    ) -> None:
        if max_source_chars < 100:
            raise ValueError(f"max_source_chars must be at least 100; got {max_source_chars}")
        self.model = model
        self.name = name or getattr(model, "model_name", None) or type(model).__name__
        self.max_source_chars = max_source_chars
        self.prompts = prompts or load_prompts(JUDGE_PROMPTS)

    def judge(self, answer: Answer) -> Judgement | None:
        """None when there is nothing to judge (an abstention, or an answer citing nothing)."""
        if answer.abstained or not answer.citations:
            return None
        claims = split_claims(answer.text)
        if not claims:
            return None
        messages = self.messages(answer.question, claims, answer.citations)
        try:
            reply = self.model.invoke(messages)
        except Exception as exc:  # any client or server failure: recorded, the run goes on
            return Judgement(claims, None, "", error=f"{type(exc).__name__}: {exc}")
        text = reply.content if isinstance(reply.content, str) else str(reply.content)
        supported = parse_verdicts(text, len(claims))
        return Judgement(claims, supported, text, error=None if supported else "unreadable reply")

    def messages(
        self, question: str, claims: list[Claim], citations: list[Citation]
    ) -> list[tuple[str, str]]:
        by_n = {c.n: c for c in citations}
        sources = "\n\n".join(
            f"[{c.n}] ({c.doc_id}) {c.passage[: self.max_source_chars]}" for c in by_n.values()
        )
        every = ", ".join(f"[{n}]" for n in by_n)
        lines = []
        for i, claim in enumerate(claims, start=1):
            known = [f"[{n}]" for n in claim.sources if n in by_n]
            against = ", ".join(known) if known else f"{every} (the sentence cites no source)"
            lines.append(f"{i}. {claim.text}\n   check against: {against}")
        user = self.prompts.render(
            "user",
            language="en",
            question=question,
            sources=sources,
            sentences="\n".join(lines),
            count=str(len(claims)),
        )
        return [("system", self.prompts.render("system", language="en")), ("human", user)]


def judge_from_settings(settings: Settings) -> FaithfulnessJudge | None:
    """An OpenAI-compatible judge when ``judge_model`` is set; None otherwise."""
    if not settings.judge_model:
        return None
    from rag.generate.llm import make_chat_model

    judge = settings.with_overrides(
        llm_base_url=settings.judge_base_url,
        llm_model=settings.judge_model,
        llm_api_key_env=settings.judge_api_key_env,
        llm_max_retries=2,
        llm_temperature=0.0,
    )
    return FaithfulnessJudge(make_chat_model(judge, streaming=False), name=settings.judge_model)
