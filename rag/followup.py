"""Follow-up questions ("那成都呢？", "and Chengdu's?", "它的目标年份呢？") are rewritten into
standalone questions before retrieval: by the LLM (``prompts/condense.v1.toml``) when the generator
has one, otherwise by rules. The rules resolve a conversation turn by turn: a question with no
follow-up cue stands alone; a bare new entity replaces the previous question's place or year (or
joins it); a pronoun is replaced by the previous question's topic."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from rag.errors import GeneratorError
from rag.generate.facts import place_names
from rag.generate.llm import describe_error
from rag.prompts import load_prompts
from rag.textnorm import cjk_count, detect_language
from rag.types import Turn

_ZH_LEAD = re.compile(r"^(?:那么|那麼|那|还有|還有|另外|再问|再問|其中)\s*")
_ZH_TAIL = re.compile(r"(?:的)?(?:呢|吗|嗎)?\s*[？?。!！]*$")
_ZH_PRONOUN = re.compile(
    r"它们|它們|它|^其(?!中|他|余|餘)|(?<=[，,])其|(?<![应應])该|(?<![应應])該|这个|這個|这些|這些|此"
)
_ZH_QUESTION = re.compile(
    r"请问|請問|是什么|是什麼|什么|什麼|多少|哪些|哪个|哪個|哪|几|幾|如何|怎么|怎麼|吗|嗎|呢"
)
_EN_LEAD = re.compile(r"^(?:and\s+)?(?:what|how)\s+about\s+|^and\s+(?:for\s+|in\s+)?|^same\s+for\s+", re.I)
_EN_TAIL = re.compile(r"(?:'s|’s)?\s*[?.!]*$")
_EN_PRONOUN = re.compile(r"\b(?:its|it|they|their|them|these|those)\b", re.I)
_EN_WH = re.compile(
    r"^(?:what|which|who|when|where|why|how)\s+(?:is|are|was|were|does|do|did|has|have|will)\s+(?:the\s+)?",
    re.I,
)
_YEAR = re.compile(r"\d{4}\s*年?")


class Rewriter(Protocol):
    def rewrite(self, question: str, history: Sequence[Turn]) -> str:
        """``question`` as a standalone question (unchanged when it needs no context)."""
        ...


def needs_context(question: str) -> bool:
    """True for a question that leans on the conversation: a follow-up cue or a pronoun."""
    q = question.strip()
    if detect_language(q) == "en":
        return bool(_EN_LEAD.search(q) or _EN_PRONOUN.search(q)) or len(q.split()) <= 2
    return bool(_ZH_LEAD.search(q) or re.search(r"呢\s*[？?]?$", q) or _ZH_PRONOUN.search(q)) or (
        cjk_count(q) <= 4
    )


class RuleRewriter:
    """Deterministic rewriting, for generators without an LLM."""

    def rewrite(self, question: str, history: Sequence[Turn]) -> str:
        question = question.strip()
        if not history:
            return question
        previous = history[0].question.strip()
        for turn in history[1:]:
            previous = self.merge(turn.question.strip(), previous)
        return self.merge(question, previous)

    def merge(self, question: str, previous: str) -> str:
        if not needs_context(question):
            return question
        english = detect_language(question) == "en"
        rest = _strip_cues(question, english)
        pronoun = (_EN_PRONOUN if english else _ZH_PRONOUN).search(rest)
        if pronoun is None and rest and _is_entity(rest, english):
            return _swap_entity(rest, previous, english)
        if pronoun is not None:
            topic = _topic(previous, english)
            if topic:
                return _replace_pronoun(question, pronoun.group(), topic, english)
        return f"{question.rstrip(' ?？')} ({previous.rstrip(' ?？')})" + ("?" if english else "？")


def _strip_cues(question: str, english: bool) -> str:
    if english:
        return _EN_TAIL.sub("", _EN_LEAD.sub("", question.strip())).strip()
    return _ZH_TAIL.sub("", _ZH_LEAD.sub("", question.strip())).strip()


def _is_entity(text: str, english: bool) -> bool:
    if english:
        return len(text.split()) <= 4
    return cjk_count(text) <= 8 and not _ZH_QUESTION.search(text)


def _place_in(text: str, english: bool) -> str | None:
    """The first place name written in ``text`` (with its 省/市/区/县 suffix), as written."""
    found = []
    for name_en, name_zh in place_names():
        if english:
            match = re.search(rf"(?<![A-Za-z]){re.escape(name_en)}(?![A-Za-z])", text, re.I)
        else:
            match = re.search(rf"{re.escape(name_zh)}(?:省|市|区|區|县|縣|州)?", text)
        if match:
            found.append((match.start(), -len(match.group()), match.group()))
    return min(found)[2] if found else None


def _swap_entity(entity: str, previous: str, english: bool) -> str:
    """The previous question about ``entity`` instead: its place or year replaced, else joined."""
    for kind in (lambda t: _place_in(t, english), lambda t: m.group() if (m := _YEAR.search(t)) else None):
        old, new = kind(previous), kind(entity)
        if old and new and old != new:
            return previous.replace(old, entity, 1)
    if english:
        return f"{previous.rstrip(' ?')}: {entity}?"
    return f"{entity}{previous}"


def _topic(previous: str, english: bool) -> str:
    """What the previous question was about: "X" of "X的Y是什么？", "of X" / "Y is X" in English."""
    previous = previous.strip().rstrip("?？。.!！ ")
    if english:
        topic = previous.rsplit(" of ", 1)[1] if " of " in previous else _EN_WH.sub("", previous)
        return topic if topic != previous and len(topic.split()) <= 10 else ""
    head = previous.split("的", 1)[0] if "的" in previous else _ZH_QUESTION.split(previous, 1)[0]
    head = re.sub(r"^(?:请问|請問|关于|關於|在)", "", head)
    return head if cjk_count(head) >= 2 and not _ZH_QUESTION.search(head) else ""


def _replace_pronoun(question: str, pronoun: str, topic: str, english: bool) -> str:
    if english:
        lowered = pronoun.lower()
        replacement = f"{topic}'s" if lowered in ("its", "their") else topic
        return re.sub(rf"\b{re.escape(pronoun)}\b", replacement, question, count=1)
    if pronoun in ("它", "它们", "它們"):
        return question.replace(pronoun, topic, 1)
    return question.replace(pronoun, f"{topic}的", 1)  # 其文号, 该意见 -> X的文号, X的意见


class LLMRewriter:
    """Condenses a follow-up with the chat model; falls back to the rules on an unusable reply."""

    def __init__(
        self,
        chat_model: BaseChatModel,
        *,
        endpoint: str = "",
        max_turns: int = 4,
        max_answer_chars: int = 400,
    ) -> None:
        if max_turns < 1 or max_answer_chars < 1:
            raise ValueError(
                f"max_turns and max_answer_chars must be >= 1; got {max_turns}, {max_answer_chars}"
            )
        self.chat_model, self.endpoint = chat_model, endpoint or "the condense step"
        self.max_turns, self.max_answer_chars = max_turns, max_answer_chars
        self.prompts = load_prompts("condense.v1")
        self.fallback = RuleRewriter()

    def messages(self, question: str, history: Sequence[Turn]) -> list[BaseMessage]:
        language = detect_language(question)
        turns = "\n".join(
            self.prompts.render(
                "turn", language=language, question=t.question, answer=t.answer[: self.max_answer_chars]
            )
            for t in history[-self.max_turns :]
        )
        return [
            SystemMessage(self.prompts.render("system", language=language)),
            HumanMessage(self.prompts.render("user", language=language, history=turns, question=question)),
        ]

    def rewrite(self, question: str, history: Sequence[Turn]) -> str:
        question = question.strip()
        if not history:
            return question
        try:
            reply = str(self.chat_model.invoke(self.messages(question, history)).text)
        except Exception as exc:
            raise GeneratorError(describe_error(exc, self.endpoint)) from exc
        rewritten = _clean_reply(reply)
        if not rewritten or len(rewritten) > 3 * len(question) + 200:
            return self.fallback.rewrite(question, history)
        return rewritten


def _clean_reply(reply: str) -> str:
    lines = [line.strip() for line in reply.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    line = re.sub(
        r"^(?:standalone question|rewritten question|独立问题|獨立問題|改写后的问题)\s*[:：]\s*",
        "",
        lines[0],
        flags=re.I,
    )
    return line.strip().strip("\"'“”「」").strip()


def make_rewriter(generator: object) -> Rewriter:
    """The LLM's condense step when the generator has a chat model, otherwise the rules."""
    chat_model = getattr(generator, "chat_model", None)
    if isinstance(chat_model, BaseChatModel):
        return LLMRewriter(chat_model, endpoint=getattr(generator, "endpoint", ""))
    return RuleRewriter()
