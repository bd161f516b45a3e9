"""The chat in headless Chromium while an answer is being written: the app over the bundled corpus,
with retrieval, a streaming LLM and citation checking slowed down by test fakes so each moment can
be looked at. Typing is kept, a second question waits visibly and is answered, Stop stops, the
stages show, nothing moves sideways, a draft changed by verification is replaced with a note,
conversations are kept, and switching knowledge base asks first.

The same flows against the real components (packaged model, real extractive generator) are in
test_browser.py."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace

import pytest
from fakes import HashEmbedder
from pages import DESKTOP, send, wait_answers

from rag.index import KnowledgeBase
from rag.pipeline import Assistant
from rag.settings import BUNDLED_CORPUS, Settings
from rag.types import Answer, Citation
from ui.service import AssistantPool
from vectorstore.chroma_store import make_client

pytestmark = [pytest.mark.slow, pytest.mark.integration]

QUERY_SECONDS = 1.0  # each question's embedding: retrieval lasts this long
TOKEN_SECONDS = 0.1
VERIFY_SECONDS = 0.8
DROPPED = "另外还有999个国家级集聚区。 [9]"


class SlowQueries(HashEmbedder):
    """The hash embedder, with every question's embedding taking a while."""

    def embed_query(self, text):
        time.sleep(QUERY_SECONDS)
        return super().embed_query(text)


class SlowLLM:
    """A streaming generator: two sentences token by token, the second citing a passage that does
    not exist (what verification drops)."""

    name = "slow-llm"

    def generate(self, question, passages):
        return list(self.stream(question, passages))[-1]

    def stream(self, question, passages):
        first = passages[0].text.split("。")[0][:40] + "。"
        draft = f"{first} [1] {DROPPED}"
        for i in range(0, len(draft), 3):
            time.sleep(TOKEN_SECONDS)
            yield draft[i : i + 3]
        start = passages[0].text.index(first[:-1])
        citation = Citation.of_span(1, passages[0], start, start + len(first) - 1)
        yield Answer(question, draft, [citation], False, "zh-Hans", generator=self.name)


class DroppingVerifier:
    """Checks slowly and drops the sentence whose marker points at no passage."""

    def verify(self, answer, passages, *, required=()):
        time.sleep(VERIFY_SECONDS)
        text = answer.text.replace(DROPPED, "").strip()
        return replace(
            answer, text=text, support=1.0, verification_notes=["dropped marker [9]: no such passage"]
        )


@pytest.fixture(scope="module")
def slow_url(tmp_path_factory, serve, chromium):
    # A collection of its own: in-memory Chroma clients of one process share their store, and other
    # browser tests' servers write into the default "sichuan".
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("ui-slow"),
        progress=False,
        corpus=(BUNDLED_CORPUS,),
        collection="slow-chat",
    )
    client, embedder = make_client(), SlowQueries()

    def assistant(s: Settings) -> Assistant:
        kb = KnowledgeBase(settings=s, embedder=embedder, client=client)
        return Assistant(s, kb=kb, generator=SlowLLM(), verifier=DroppingVerifier())

    pool = AssistantPool(settings, factory=assistant, client=client)
    pool.get(settings.collection).ingest()
    with serve(settings, pool) as url:
        yield url


def streaming(page) -> None:
    page.wait_for_function(
        "(document.querySelector('#live .msg-answer.streaming .answer-text')?.innerText || '').length > 3",
        timeout=60_000,
    )


def test_text_typed_while_an_answer_is_written_is_kept(slow_url, open_page):
    page = open_page(slow_url)
    send(page, "四川省已建成多少个省级现代服务业集聚区？")
    streaming(page)
    page.locator("#question textarea").press_sequentially("还没写完的问题")
    wait_answers(page, 1)
    page.wait_for_timeout(300)
    assert page.input_value("#question textarea") == "还没写完的问题"


def test_a_question_sent_during_an_answer_waits_visibly_then_is_answered(slow_url, open_page):
    page = open_page(slow_url)
    send(page, "四川省已建成多少个省级现代服务业集聚区？")
    streaming(page)
    assert page.locator("#send").is_enabled() and page.locator("#stop").is_enabled()
    send(page, "成都生活性服务业增加值要达到多少？")
    queued = page.locator("#live .queue .queued-q")
    queued.wait_for(timeout=10_000)
    assert queued.inner_text() == "成都生活性服务业增加值要达到多少？"
    assert "排队中 Queued (1)" in page.locator("#live .queue").inner_text()
    assert page.input_value("#question textarea") == ""
    wait_answers(page, 2)
    questions = page.locator("#conversation .turn .msg-question").all_inner_texts()
    assert questions == ["四川省已建成多少个省级现代服务业集聚区？", "成都生活性服务业增加值要达到多少？"]
    assert page.locator("#conversation .msg-answer:not(.stopped)").count() == 2
    page.wait_for_function("!document.querySelector('#live .turn')")


def test_stop_cancels_the_answer_being_written(slow_url, open_page):
    page = open_page(slow_url)
    send(page, "四川省已建成多少个省级现代服务业集聚区？")
    streaming(page)
    page.locator("#stop").click()
    stopped = page.locator("#conversation .msg-answer.stopped")
    stopped.wait_for(timeout=30_000)
    text = stopped.locator(".answer-text").inner_text()
    assert "已停止 · Stopped" in stopped.inner_text() and DROPPED[:6] not in text
    page.wait_for_timeout(1500)
    assert stopped.locator(".answer-text").inner_text() == text  # nothing more was written
    assert page.locator("#live .msg-answer").count() == 0 and page.locator(".source-card").count() == 0
    page.wait_for_function("document.querySelector('#stop').disabled")


def test_the_stage_shows_while_retrieving_answering_and_verifying(slow_url, open_page):
    page = open_page(slow_url)
    page.evaluate(
        """() => {
          window.seenStages = [];
          new MutationObserver(() => {
            const now = document.querySelector('#live .stage.now');
            const name = now && now.offsetParent !== null ? now.dataset.stage : null;
            if (name && window.seenStages[window.seenStages.length - 1] !== name) window.seenStages.push(name);
          }).observe(document.body, {childList: true, subtree: true, attributes: true});
        }"""
    )
    send(page, "四川省已建成多少个省级现代服务业集聚区？")
    retrieving = page.locator('#live .stage.now[data-stage="retrieving"]')
    retrieving.wait_for(state="visible", timeout=15_000)  # shown only while the question is embedded
    assert "正在检索" in page.locator("#live .stage-now").inner_text()
    wait_answers(page, 1)
    assert page.evaluate("window.seenStages") == ["retrieving", "answering", "verifying"]


def test_the_chat_column_keeps_its_place_before_during_and_after_an_answer(slow_url, open_page):
    page = open_page(slow_url, viewport=DESKTOP)

    def boxes():
        return [page.locator(s).bounding_box() for s in ("#chat-column", "#sources-column", "#chat-scroll")]

    before = boxes()
    send(page, "四川省已建成多少个省级现代服务业集聚区？")
    streaming(page)
    during = boxes()
    wait_answers(page, 1)
    page.locator("#sources .source-card").first.wait_for()
    after = boxes()
    for b, d, a in zip(before, during, after, strict=True):
        for key in ("x", "width"):
            assert abs(b[key] - d[key]) <= 0.5 and abs(b[key] - a[key]) <= 0.5, (key, before, during, after)
    assert abs(before[2]["height"] - after[2]["height"]) <= 0.5  # the conversation scrolls inside its box


def test_a_draft_changed_by_citation_checks_is_replaced_with_a_note(slow_url, open_page):
    page = open_page(slow_url)
    send(page, "四川省已建成多少个省级现代服务业集聚区？")
    page.wait_for_function(
        "(document.querySelector('#live .answer-text')?.innerText || '').includes('999个')", timeout=60_000
    )
    wait_answers(page, 1)
    answer = page.locator("#conversation .msg-answer").last
    assert "999个" not in answer.locator(".answer-text").inner_text()
    assert "核对引用后，回答已修改" in answer.locator(".revised-note").inner_text()
    answer.locator("a.cite").first.click()
    page.locator("#sources .source-card.is-target mark.cited-span.is-target").wait_for()


def test_conversations_are_kept_per_browser_opened_renamed_and_deleted(slow_url, open_page):
    context = open_page.new_context()
    page = open_page(slow_url, context=context)
    send(page, "成都生活性服务业增加值要达到多少？")
    wait_answers(page, 1)
    item = page.locator("#conversations li.conv").first
    item.wait_for()
    assert "成都生活性服务业" in item.inner_text() and "active" in item.get_attribute("class")
    page.reload()
    page.wait_for_selector("#conversations li.conv", timeout=60_000)
    assert page.locator("#conversation .turn").count() == 0  # a fresh conversation on load
    assert open_page(slow_url).locator("#conversations li.conv").count() == 0  # another browser: none
    page.locator("#conversations li.conv .conv-open").first.click()
    page.locator("#conversation .turn").first.wait_for()
    assert "成都生活性服务业" in page.locator("#conversation .msg-question").inner_text()
    page.locator("#sources .source-card").first.wait_for()
    item = page.locator("#conversations li.conv").first
    item.locator(".conv-rename").click()
    item.locator(".conv-title-input").fill("服务业目标")
    item.locator(".conv-title-input").press("Enter")
    page.wait_for_function("document.querySelector('#conversations .conv-title')?.innerText === '服务业目标'")
    item = page.locator("#conversations li.conv").first
    item.locator(".conv-delete").click()
    item.locator(".conv-delete-yes").wait_for(state="visible")
    item.locator(".conv-delete-yes").click()
    page.wait_for_function("document.querySelectorAll('#conversations li.conv').length === 0")
    assert page.locator("#conversation .welcome").count() == 1


def choose_collection(page, name: str) -> None:
    page.locator("#collection input").click()
    page.locator(f'#collection li[role="option"][aria-label="{name}"]').click()


def test_switching_knowledge_base_asks_before_it_starts_a_new_conversation(slow_url, open_page):
    page = open_page(slow_url)
    default = page.locator("#collection input").input_value()
    page.get_by_role("tab", name="知识库 Knowledge base").click()
    page.get_by_text("新建知识库 New knowledge base").click()
    page.fill("#new-kb-name input", "a b")
    page.locator("#create-kb").click()
    page.wait_for_function("document.querySelector('#kb-message textarea')?.value.includes('不可用')")
    assert "cannot be used" in page.input_value("#kb-message textarea")
    other = f"other-{uuid.uuid4().hex[:6]}"
    page.fill("#new-kb-name input", other)
    page.locator("#create-kb").click()
    page.wait_for_function(f"document.querySelector('#collection input')?.value === {other!r}")
    choose_collection(page, default)
    page.get_by_role("tab", name="对话 Chat").click()
    # the summary is re-read from the store after the switch; a loaded 2-core machine takes a while
    page.wait_for_function(
        "document.querySelector('#kb-summary')?.innerText.includes('5 篇文档')", timeout=90_000
    )
    send(page, "四川省已建成多少个省级现代服务业集聚区？")
    wait_answers(page, 1)
    choose_collection(page, other)
    confirm = page.locator("#switch-confirm")
    confirm.wait_for(state="visible")
    assert other in confirm.inner_text() and "Switch to" in confirm.inner_text()
    assert page.locator("#conversation .turn").count() == 1  # nothing cleared yet
    confirm.get_by_role("button", name="取消 Cancel").click()
    confirm.wait_for(state="hidden")
    assert page.locator("#collection input").input_value() == default
    assert page.locator("#conversation .turn").count() == 1
    choose_collection(page, other)
    confirm.wait_for(state="visible")
    confirm.get_by_role("button", name="切换 Switch").click()
    page.wait_for_function(
        "document.querySelector('#kb-summary')?.innerText.includes('0 篇文档')", timeout=90_000
    )
    assert page.locator("#conversation .turn").count() == 0
    assert page.locator("#collection input").input_value() == other
    assert page.locator("#conversations li.conv").count() == 1  # the earlier conversation is kept
