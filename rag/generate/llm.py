"""LLM generator: any LangChain chat model answers from numbered passages, citing them with ``[n]``.

The prompts (``prompts/answer.v1.toml``) put each passage between ``<passage>`` tags with its text
XML-escaped, so a passage cannot close its delimiter or pass for the question. The draft answer's
markers become Citations (``n`` = the passage's number); ``rag.generate.verify`` then checks them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import replace
from html import escape, unescape

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from rag.errors import ContextLengthError, GeneratorError
from rag.generate.answer_model import EvidenceModel
from rag.generate.markers import markers_in, split_claims, strip_reference_list
from rag.generate.refusal import closest_passages
from rag.prompts import load_prompts
from rag.settings import Settings
from rag.textnorm import detect_language, fold_t2s, sentence_spans
from rag.types import Answer, Citation, Passage

_CONTEXT_ERROR = re.compile(r"context (?:length|size|window)|maximum context|too many tokens", re.I)


# Prompt delimiters a model may echo into its reply (the reply is plain text: entities unescaped).
_PROMPT_TAG = re.compile(r"</?(?:passage|question)\b[^>]*>")


class LLMGenerator:
    """Answers with a chat model. ``stream`` yields the model's text pieces, then the Answer.

    With an evidence model, the passages are given to the model best first, and a question the
    passages cannot answer (answerability under the threshold) is refused without asking it.
    """

    def __init__(
        self,
        chat_model: BaseChatModel,
        *,
        name: str = "openai",
        prompt: str = "answer.v1",
        endpoint: str = "",
        max_passage_chars: int = 2000,
        evidence: EvidenceModel | None = None,
    ) -> None:
        if max_passage_chars < 100:
            raise ValueError(f"max_passage_chars must be at least 100; got {max_passage_chars}")
        self.chat_model, self.name, self.endpoint = chat_model, name, endpoint or name
        self.max_passage_chars = max_passage_chars
        self.evidence = evidence
        self.prompts = load_prompts(prompt)

    def messages(self, question: str, passages: list[Passage]) -> list[BaseMessage]:
        """The system prompt and the user message: delimited passages, then the question."""
        language = detect_language(question)
        blocks = "\n\n".join(
            self.prompts.render(
                "passage",
                language=language,
                n=str(n),
                doc=escape(p.doc_id),
                title=escape(p.title or ""),
                date=escape(p.date or ""),
                text=escape(p.text[: self.max_passage_chars], quote=False),
            )
            for n, p in enumerate(passages, start=1)
        )
        user = self.prompts.render(
            "user", language=language, passages=blocks, question=escape(question, quote=False)
        )
        return [SystemMessage(self.prompts.render("system", language=language)), HumanMessage(user)]

    def generate(self, question: str, passages: list[Passage]) -> Answer:
        if not passages:
            return self._no_passages(question)
        ordered, answerability = self._ordered(question, passages)
        if not ordered:
            return self._no_evidence(question, answerability, passages)
        passages = ordered
        count = len(passages)
        while True:
            try:
                reply = self.chat_model.invoke(self.messages(question, passages[:count]))
                answer = self.answer(question, str(reply.text), passages[:count])
                return replace(answer, answerability=answerability)
            except Exception as exc:  # the chat model's own errors vary by backend; see describe_error
                if count > 1 and context_overflow(exc):
                    count -= 1  # the prompt is too long for the model: answer from fewer passages
                    continue
                raise GeneratorError(describe_error(exc, self.endpoint)) from exc

    def stream(self, question: str, passages: list[Passage]) -> Iterator[str | Answer]:
        if not passages:
            yield self._no_passages(question)
            return
        ordered, answerability = self._ordered(question, passages)
        if not ordered:
            yield self._no_evidence(question, answerability, passages)
            return
        passages = ordered
        count = len(passages)
        pieces: list[str] = []
        while True:
            try:
                for chunk in self.chat_model.stream(self.messages(question, passages[:count])):
                    piece = str(chunk.text)
                    if piece:
                        pieces.append(piece)
                        yield piece
                break
            except Exception as exc:
                if count > 1 and not pieces and context_overflow(exc):
                    count -= 1
                    continue
                raise GeneratorError(describe_error(exc, self.endpoint)) from exc
        yield replace(self.answer(question, "".join(pieces), passages[:count]), answerability=answerability)

    def _ordered(self, question: str, passages: list[Passage]) -> tuple[list[Passage], float | None]:
        """The passages best evidence first, and the answerability; no passages when the
        evidence is below the threshold (the model is not asked to guess)."""
        if self.evidence is None:
            return passages, None
        assessment = self.evidence.assess(question, passages)
        if not self.evidence.answerable(assessment):
            return [], assessment.answerability
        scores = assessment.passage_scores(len(passages))
        order = sorted(range(len(passages)), key=lambda i: -scores[i])
        return [passages[i] for i in order], assessment.answerability

    def _no_evidence(self, question: str, answerability: float | None, passages: list[Passage]) -> Answer:
        language = detect_language(question)
        closest = closest_passages(passages, language)
        text = self.prompts.render("no_evidence", language=language, question=question, closest=closest)
        return Answer(question, text, [], True, language, generator=self.name, answerability=answerability)

    def answer(self, question: str, text: str, passages: list[Passage]) -> Answer:
        """The draft Answer for a model's reply: echoed prompt tags and a trailing reference list
        dropped, one Citation per marker that names a passage (markers that do not stay in the
        text for verification)."""
        language = detect_language(question)
        text = strip_reference_list(_PROMPT_TAG.sub("", unescape(text)))
        claims = split_claims(text)
        citations = []
        for n in markers_in(text):
            if 1 <= n <= len(passages):
                citing = [c.text for c in claims if n in c.markers]
                citations.append(_citation(n, passages[n - 1], citing))
        if not text:
            text = self.prompts.render("no_citations", language=language)
            return Answer(question, text, [], True, language, generator=self.name)
        return Answer(question, text, citations, False, language, generator=self.name)

    def _no_passages(self, question: str) -> Answer:
        language = detect_language(question)
        text = self.prompts.render("no_passages", language=language)
        return Answer(question, text, [], True, language, generator=self.name)


def _citation(n: int, passage: Passage, citing: list[str]) -> Citation:
    """The passage sentence sharing the most character bigrams with the sentences citing it."""
    spans = sentence_spans(passage.text) or [(0, len(passage.text))]
    wanted = _bigrams(" ".join(citing))
    start, end = max(spans, key=lambda s: len(wanted & _bigrams(passage.text[s[0] : s[1]])))
    return Citation.of_span(n, passage, start, end)


def _bigrams(text: str) -> set[str]:
    folded = re.sub(r"\s+", " ", fold_t2s(text).lower())
    return {folded[i : i + 2] for i in range(len(folded) - 1)}


def context_overflow(exc: BaseException) -> bool:
    """True when a model refused a prompt longer than its context window."""
    import openai

    if isinstance(exc, ContextLengthError):
        return True
    if isinstance(exc, openai.BadRequestError):
        return getattr(exc, "code", None) == "context_length_exceeded" or bool(
            _CONTEXT_ERROR.search(_message(exc))
        )
    return False


def describe_error(exc: BaseException, endpoint: str) -> str:
    """One line for a failed call to a chat model."""
    import openai

    if isinstance(exc, GeneratorError):
        return str(exc)
    if isinstance(exc, openai.APITimeoutError):
        return f"the LLM at {endpoint} did not answer in time (raise llm_timeout?)"
    if isinstance(exc, openai.APIConnectionError):
        return f"cannot reach the LLM at {endpoint}: {exc.__cause__ or exc}"
    if isinstance(exc, openai.AuthenticationError):
        return f"the LLM at {endpoint} rejected the API key (set the variable named by llm_api_key_env)"
    if isinstance(exc, openai.NotFoundError):
        return f"the LLM at {endpoint} does not know this model or path: {_message(exc)}"
    if isinstance(exc, openai.APIStatusError):
        return f"the LLM at {endpoint} answered HTTP {exc.status_code}: {_message(exc)}"
    return f"the LLM at {endpoint} failed: {type(exc).__name__}: {exc}"


def _message(exc: BaseException) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def make_chat_model(settings: Settings, *, streaming: bool = True) -> BaseChatModel:
    """ChatOpenAI for ``generator = "openai"``: any OpenAI-compatible endpoint (OpenAI, vLLM,
    Ollama, llama.cpp's server, or another ``rag api``). The key is read from the environment."""
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        base_url=settings.llm_base_url,
        model=settings.llm_model,
        api_key=os.environ.get(settings.llm_api_key_env) or "not-needed",
        timeout=settings.llm_timeout,
        max_retries=settings.llm_max_retries,
        temperature=settings.llm_temperature,
        streaming=streaming,
        use_responses_api=False,
    )


def make_llm_generator(settings: Settings, *, evidence: EvidenceModel | None = None) -> LLMGenerator:
    if settings.generator == "local":
        from rag.generate.local import LocalChatModel

        model = LocalChatModel.from_settings(settings)
        return LLMGenerator(
            model, name="local", endpoint=f"local model {model.model_path}", evidence=evidence
        )
    endpoint = f"{settings.llm_base_url or 'https://api.openai.com/v1'} (model {settings.llm_model!r})"
    return LLMGenerator(make_chat_model(settings), name="openai", endpoint=endpoint, evidence=evidence)
