"""The OpenAI chat-completions wire format: requests in, completions and chunks out."""

from __future__ import annotations

import html
import re
import time
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from rag.types import Answer, Citation, Turn

MODEL_PREFIX = "tianfu-rag"
_QUESTION_ELEMENT = re.compile(r"<question>(.*?)</question>", re.S)


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None

    @property
    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(str(p.get("text", "")) for p in self.content if p.get("type", "text") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    """A chat-completions request. Sampling options (temperature, max_tokens, ...) are accepted
    and ignored; ``k``, ``mode``, ``doc_ids`` and ``filter`` are retrieval options of this server."""

    model_config = ConfigDict(extra="allow")

    model: str = MODEL_PREFIX
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    k: int | None = Field(default=None, ge=1, le=50)
    mode: str | None = Field(default=None, pattern="^(hybrid|dense|keyword)$")
    doc_ids: list[str] | None = None
    # document metadata filter (rag/filters.py): {"issuer": "…", "type": ["通知"], "since": "2020"}
    filter: dict[str, Any] | None = None


def question_and_history(messages: list[ChatMessage]) -> tuple[str, list[Turn]]:
    """The last user message is the question; earlier user messages, each with the assistant reply
    that follows it, are the conversation. A question wrapped in ``<question>`` tags (the prompt of
    another tianfu-rag's LLM generator) is taken from inside them."""
    if messages[-1].role != "user":
        raise ValueError("the last message must have role 'user'")
    question = messages[-1].text
    inner = _QUESTION_ELEMENT.findall(question)
    if inner:
        question = html.unescape(inner[-1])
    history: list[Turn] = []
    for index, message in enumerate(messages[:-1]):
        if message.role != "user":
            continue
        reply = messages[index + 1] if index + 1 < len(messages) - 1 else None
        answer = reply.text if reply is not None and reply.role == "assistant" else ""
        history.append(Turn(question=message.text, answer=answer))
    return question.strip(), history


def footnotes(citations: list[Citation]) -> str:
    """ "[1] title, date — span" lines for the citations of an answer."""
    lines = []
    for c in citations:
        head = ", ".join(x for x in (c.title or c.doc_id, c.date) if x)
        span = " ".join(c.span.split())
        lines.append(f"[{c.n}] {head} — {span}")
    return "\n".join(lines)


def content_of(answer: Answer) -> str:
    notes = footnotes(answer.citations)
    return f"{answer.text}\n\n{notes}" if notes else answer.text


def rag_details(answer: Answer) -> dict[str, Any]:
    return {
        "question": answer.question,
        "rewritten_question": answer.rewritten_question,
        "abstained": answer.abstained,
        "support": answer.support,
        "answerability": answer.answerability,
        "verification_notes": answer.verification_notes,
        "language": answer.language,
        "generator": answer.generator,
        "answer": answer.text,
        "passages": [
            {
                k: v
                for k, v in p.to_dict().items()
                if k in ("chunk_id", "doc_id", "title", "date", "section", "score")
            }
            for p in answer.passages
        ],
        "timings": answer.timings,
    }


def completion(answer: Answer, model: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content_of(answer)},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "citations": [c.to_dict() for c in answer.citations],
        "x_rag": rag_details(answer),
    }


class ChunkWriter:
    """Server-sent events of one streamed completion, in the OpenAI chunk format."""

    def __init__(self, model: str) -> None:
        self.id, self.model, self.created = f"chatcmpl-{uuid.uuid4().hex}", model, int(time.time())

    def chunk(self, delta: dict[str, Any], finish_reason: str | None = None, **extra: Any) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
            **extra,
        }


def error_body(message: str, *, kind: str = "invalid_request_error", code: str | None = None) -> dict:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}
