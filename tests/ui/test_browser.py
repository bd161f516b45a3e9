"""End to end in headless Chromium: the real app (packaged embedding model, on-disk Chroma, the
bundled corpus) served on loopback; ask, stream, click a citation, upload a hostile document,
and hold a 30-turn conversation. The page may not fetch anything from outside the machine."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import pytest

from rag.pipeline import Assistant
from rag.settings import PROJECT_ROOT, Settings, load_settings

pytestmark = [pytest.mark.slow, pytest.mark.integration]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
ANSWERS = ".msg-answer:not(.streaming), .msg-error"
XSS_DOC = (
    "网页转义检查<b>粗体</b><img src=x onerror=alert(3)>\n\n"
    "<script>alert(1)</script> 熊猫繁育研究基地的门票价格是55元。<img src=x onerror=alert(2)>\n\n"
    "这份文件只用于检查网页是否把文档里的 HTML 当作文字显示。\n"
)


@pytest.fixture(scope="module")
def chromium():
    if not CHROMIUM.exists():
        reason = f"end-to-end UI tests need Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, serve, chromium):
    """The real app over the bundled corpus in a temporary data folder. The converted embedding
    model is shared with the project's data folder, so it is built at most once."""
    data_dir = tmp_path_factory.mktemp("ui-e2e")
    shared_models = load_settings(env={}).models_dir
    shared_models.mkdir(parents=True, exist_ok=True)
    (data_dir / "models").symlink_to(shared_models, target_is_directory=True)
    settings = Settings(data_dir=data_dir, progress=False)
    Assistant.from_settings(settings).ingest()
    with serve(settings) as url:
        yield url


@pytest.fixture
def page(chromium, app_url):
    """A fresh browser session; requests leaving the machine are blocked and recorded."""
    context = chromium.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    outside: list[str] = []
    dialogs: list[str] = []

    def route(request_route):
        url = request_route.request.url
        if url.startswith(("data:", "blob:")) or urlparse(url).hostname in ("127.0.0.1", "localhost"):
            request_route.continue_()
        else:
            outside.append(url)
            request_route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(app_url)
    page.wait_for_selector("#question textarea", timeout=60_000)
    page.wait_for_function(
        "document.querySelector('#kb-status')?.innerText.includes('篇文档')", timeout=60_000
    )
    yield page
    context.close()
    assert outside == [], f"the page reached outside the machine: {outside}"
    assert dialogs == [], f"a script in the page opened a dialog: {dialogs}"


def ask(page, question: str) -> None:
    before = page.locator(ANSWERS).count()
    page.fill("#question textarea", question)
    page.keyboard.press("Enter")
    page.wait_for_function(f"document.querySelectorAll({ANSWERS!r}).length > {before}", timeout=120_000)


def test_answer_cites_and_clicking_a_marker_highlights_the_passage(page):
    page.locator("#chatbot").get_by_text("English").wait_for()  # example questions on the empty screen
    assert (
        page.locator("#chatbot").get_by_text("繁體").count()
        and page.locator("#chatbot").get_by_text("简体").count()
    )
    ask(page, "武侯區產業園區高質量發展大會是哪天召開的？")
    answer = page.locator(".msg-answer").last
    assert "15日" in answer.inner_text()
    answer.locator("a.cite").first.click()
    target = page.locator(".source-card.is-target")
    target.wait_for()
    assert target.count() == 1 and target.get_attribute("data-doc-id").startswith("002_")
    assert target.locator("mark.cited-span.is-target").count() >= 1
    assert page.locator("#sources-1.active").count() == 1
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(1300)  # let the highlight animation settle for the screenshot
    page.screenshot(path=str(ARTIFACTS / "ui-chat.png"))


def test_document_html_is_displayed_as_text(page, tmp_path):
    hostile = tmp_path / "999_xss.txt"
    hostile.write_text(XSS_DOC, encoding="utf-8")
    page.get_by_role("tab", name="知识库 Knowledge base").click()
    page.locator("#upload input[type=file]").set_input_files(str(hostile))
    page.get_by_role("button", name="加入知识库 Add to knowledge base").click()
    page.wait_for_function(
        "document.querySelector('#kb-message textarea')?.value.includes('1/1')", timeout=120_000
    )
    assert "999_xss" in page.locator("#documents").inner_text()
    page.get_by_role("tab", name="对话 Chat").click()
    ask(page, "熊猫繁育研究基地的门票价格是多少？")
    card = page.locator('.turn-sources.active .source-card[data-doc-id="999_xss"]').first
    card.wait_for()
    assert "<script>alert(1)</script>" in card.inner_text()
    assert "<img src=x onerror=alert(2)>" in card.inner_text()
    injected = "document.querySelectorAll('#sources script, #sources img, #chatbot script').length"
    assert page.evaluate(injected) == 0


def test_thirty_answered_turns_render_and_stay_usable(page):
    questions = [
        "四川省已建成多少个省级现代服务业集聚区？",
        "How many provincial modern service industry clusters has Sichuan established?",
        "武侯區產業園區高質量發展大會是哪天召開的？",
    ]
    for turn in range(30):
        ask(page, questions[turn % len(questions)])
    assert page.locator(ANSWERS).count() == 30
    assert page.locator(".msg-error").count() == 0
    assert page.locator(".turn-sources").count() == 30 and page.locator("#sources-30.active").count() == 1
    page.locator(".msg-answer").first.locator("a.cite").first.click()
    page.locator("#sources-1.active .source-card.is-target").wait_for()
    page.get_by_role("button", name="＋ 新对话 New chat").click()
    page.wait_for_function("document.querySelectorAll('.msg-answer').length === 0")
