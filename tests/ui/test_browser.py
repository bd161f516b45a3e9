"""End to end in headless Chromium: the real app (packaged embedding model, on-disk Chroma, the
bundled corpus, the extractive generator) served on loopback. Citations open their highlighted
sentence; refusals list "title › section" once each; text contrast passes WCAG AA in light and dark
themes; the phone layout shows every tab and a readable header; documents open in a preview;
the knowledge-base tab explains itself in both languages; document HTML stays text; a 30-turn
conversation stays usable. Screenshots at both sizes and themes go to tests/artifacts/screenshots.
The page may not fetch anything from outside the machine."""

from __future__ import annotations

import re

import pytest
from pages import DESKTOP, FINISHED, PHONE, ask, screenshot, send, wait_answers

from rag.pipeline import Assistant
from rag.settings import Settings, load_settings

pytestmark = [pytest.mark.slow, pytest.mark.integration]

XSS_DOC = (
    "网页转义检查<b>粗体</b><img src=x onerror=alert(3)>\n\n"
    "<script>alert(1)</script> 熊猫繁育研究基地的门票价格是55元。<img src=x onerror=alert(2)>\n\n"
    "这份文件只用于检查网页是否把文档里的 HTML 当作文字显示。\n"
)
DOC_ID = re.compile(r"\b\d{3}_[0-9a-f]{8,}\b")
CLUSTERS = "四川省已建成多少个省级现代服务业集聚区？"
UNANSWERABLE = "成都的地铁票价是多少？"  # closest: two chunks of one section

# The contrast of an element's text with what is behind it, from the rendered colours: each colour
# is resolved by painting it on a canvas, backgrounds are composited up the tree, and the opacity of
# the element and its ancestors is applied to the text.
CONTRAST_JS = """
(selector) => {
  const el = document.querySelector(selector);
  if (!el) return null;
  const canvas = document.createElement('canvas'); canvas.width = canvas.height = 1;
  const ctx = canvas.getContext('2d', {willReadFrequently: true});
  const rgba = (css) => { ctx.clearRect(0, 0, 1, 1); ctx.fillStyle = '#000'; ctx.fillStyle = css;
    ctx.fillRect(0, 0, 1, 1); const d = ctx.getImageData(0, 0, 1, 1).data; return [d[0], d[1], d[2], d[3] / 255]; };
  const over = (top, bottom) => [0, 1, 2].map((i) => top[i] * top[3] + bottom[i] * (1 - top[3])).concat([1]);
  const layers = [];
  for (let e = el; e; e = e.parentElement) {
    const bg = rgba(getComputedStyle(e).backgroundColor);
    if (bg[3] > 0) { layers.push(bg); if (bg[3] >= 1) break; }
  }
  let back = [255, 255, 255, 1];
  for (const layer of layers.reverse()) back = over(layer, back);
  let opacity = 1;
  for (let e = el; e; e = e.parentElement) opacity *= Number(getComputedStyle(e).opacity);
  const text = rgba(getComputedStyle(el).color);
  const front = over([text[0], text[1], text[2], text[3] * opacity], back);
  const lum = (c) => { const [r, g, b] = c.slice(0, 3).map((v) => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const [a, b] = [lum(front), lum(back)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}
"""
MARKETS = "成都计划到2022年形成多少个千亿级消费市场？"
BODY_TEXT = [
    "#conversation .answer-text",
    "#conversation .msg-question",
    ".source-card .card-title",
    ".card-text",
]
GREY_TEXT = [
    "#app-title p",
    ".kb-summary",
    ".kb-recent .recent-date",
    "#active-settings .active-settings",
    "ol.footnotes",
    "details.answer-details",
    ".turn-head",
    ".card-meta",
    ".conv-meta",
]
HIGHLIGHTED = [
    "mark.cited-span",
    "mark.cited-span.is-target",
    ".badge-n",
    "a.cite",
    ".card-section",
    ".kb-generator",
    ".source-card button.read-doc",
]


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


def open_first_citation(page) -> None:
    page.locator("#conversation .msg-answer").last.locator("a.cite").first.click()
    page.locator("#sources .source-card.is-target mark.cited-span.is-target").first.wait_for()


def test_answer_cites_and_clicking_a_marker_highlights_the_passage(app_url, open_page):
    page = open_page(app_url)
    examples = page.locator("#conversation .examples")
    assert all(examples.get_by_text(script).count() for script in ("简体", "繁體", "English"))
    ask(page, "武侯區產業園區高質量發展大會是哪天召開的？")
    answer = page.locator("#conversation .msg-answer").last
    assert "15日" in answer.inner_text()
    answer.locator("a.cite").first.click()
    target = page.locator(".source-card.is-target")
    target.wait_for()
    assert target.count() == 1 and target.get_attribute("data-doc-id").startswith("002_")
    assert target.locator("mark.cited-span.is-target").count() >= 1
    assert "2024-11-16" in target.inner_text() and not DOC_ID.search(target.inner_text())
    assert page.locator("#sources-1.active").count() == 1


@pytest.mark.parametrize(
    ("viewport", "theme", "name"),
    [
        (DESKTOP, "", "desktop-light"),
        (DESKTOP, "dark", "desktop-dark"),
        (PHONE, "", "phone-light"),
        (PHONE, "dark", "phone-dark"),
    ],
)
def test_text_contrast_passes_wcag_aa_and_screenshots_are_saved(app_url, open_page, viewport, theme, name):
    page = open_page(app_url, viewport=viewport, theme=theme)
    assert page.evaluate("document.body.classList.contains('dark')") == (theme == "dark")
    screenshot(page, f"start-{name}")
    ask(page, MARKETS)  # its citation has a section path (.card-section) and a highlighted span
    open_first_citation(page)
    page.wait_for_timeout(1300)  # let the highlight animation settle
    ratios = {s: page.evaluate(CONTRAST_JS, s) for s in BODY_TEXT + GREY_TEXT + HIGHLIGHTED}
    missing = [s for s, r in ratios.items() if r is None]
    assert missing == [], f"not on the page: {missing}"
    strong = page.evaluate(CONTRAST_JS, "mark.cited-span strong.answer-span")  # once answers carry highlights
    if strong is not None:
        ratios["mark.cited-span strong.answer-span"] = strong
    failing = {s: round(r, 2) for s, r in ratios.items() if r < 4.5}
    assert failing == {}, f"contrast below 4.5:1 ({name}): {failing}"
    page.locator("#sources .source-card.is-target").scroll_into_view_if_needed()
    screenshot(page, f"answer-{name}")


def test_a_phone_shows_every_tab_a_readable_header_and_does_not_scroll_on_load(app_url, open_page):
    page = open_page(app_url, viewport=PHONE)
    page.wait_for_timeout(800)
    assert page.evaluate("window.scrollY") == 0  # the page did not jump to the question box
    tabs = page.get_by_role("tab")
    names = [t.inner_text() for t in tabs.all() if t.is_visible()]
    assert names == ["对话 Chat", "知识库 Knowledge base", "评测 Eval"]
    for tab in tabs.all():
        box = tab.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    title = page.locator("#app-title h1").bounding_box()
    line = page.evaluate("parseFloat(getComputedStyle(document.querySelector('#app-title h1')).lineHeight)")
    assert title["width"] >= 250 and title["height"] <= 2.2 * line  # one or two lines, not a column of glyphs
    chat = page.locator("#chat-scroll").bounding_box()
    assert chat["width"] >= 330 and chat["height"] <= 0.7 * PHONE["height"]
    page.get_by_role("tab", name="评测 Eval").click()
    page.get_by_role("button", name="运行评测 Run eval").wait_for(state="visible")
    page.get_by_role("tab", name="知识库 Knowledge base").click()
    page.locator("#documents").wait_for(state="visible")
    screenshot(page, "phone-knowledge-base")


def test_a_refusal_lists_title_and_section_once_each_without_ids(app_url, open_page):
    page = open_page(app_url)
    ask(page, UNANSWERABLE)
    answer = page.locator("#conversation .msg-answer").last
    assert "abstained" in answer.get_attribute("class") and "未找到答案" in answer.inner_text()
    listed = page.locator("#sources .closest-list li").all_inner_texts()
    assert listed and len(listed) == len(set(listed)), listed
    assert any(" › " in item for item in listed) and not any(DOC_ID.search(item) for item in listed)
    cards = page.locator("#sources .turn-sources > .source-card")
    assert cards.count() == len(listed)
    assert not DOC_ID.search(page.locator("#sources").inner_text())
    screenshot(page, "refusal-desktop-light")


def test_a_cited_document_opens_at_its_span_and_the_table_opens_documents(app_url, open_page):
    page = open_page(app_url)
    ask(page, CLUSTERS)
    card = page.locator("#sources .source-card.cited").first
    cited = card.locator("mark.cited-span").first.inner_text()
    card.locator("button.read-doc").click()
    target = page.locator("#doc-preview .preview-target")
    target.wait_for(state="visible")
    assert target.inner_text() == cited
    page.wait_for_timeout(500)
    box, text = target.bounding_box(), page.locator("#doc-preview .preview-text").bounding_box()
    assert text["y"] <= box["y"] and box["y"] + min(box["height"], 40) <= text["y"] + text["height"]
    assert page.locator("#doc-preview .chunk-start").count() > 1
    screenshot(page, "preview-desktop-light")
    page.locator("#doc-preview .preview-close").click()
    page.locator("#doc-preview .doc-preview").wait_for(state="hidden")
    page.locator("#kb-summary .kb-recent button.read-doc").first.click()
    page.locator("#doc-preview .doc-preview").wait_for(state="visible")
    page.keyboard.press("Escape")
    page.get_by_role("tab", name="知识库 Knowledge base").click()
    cell = page.locator("#documents .virtual-row .body-cell", has_text="成都:关于创新发展生活性服务业").first
    title = cell.inner_text().strip()
    cell.click()
    page.wait_for_function(
        "(t) => document.querySelector('#doc-preview .preview-title')?.innerText.trim() === t", arg=title
    )
    assert page.locator("#doc-preview .preview-outline a").count() >= 3  # the document's sections


def test_the_knowledge_base_tab_explains_itself_and_asks_before_deleting(app_url, open_page, tmp_path):
    page = open_page(app_url)
    page.get_by_role("tab", name="知识库 Knowledge base").click()
    table = page.locator("#documents")
    headers = [h.strip() for h in table.locator("thead th").all_inner_texts() if h.strip()]
    assert headers[:5] == ["标题 Title", "日期 Date", "文号 Doc number", "段落数 Chunks", "添加时间 Added"]
    assert not DOC_ID.search(table.inner_text())
    message = page.locator("#kb-message textarea")
    for name, content, expected in (
        ("empty.txt", "", "文件是空的 the file is empty"),
        ("notes.exe", "x", "不支持的文件类型 unsupported type .exe"),
    ):
        path = tmp_path / name
        path.write_text(content, encoding="utf-8")
        page.locator("#upload input[type=file]").set_input_files(str(path))
        page.locator("#upload").get_by_text(name.split(".")[0]).first.wait_for()
        page.locator("#add-files").click()
        page.wait_for_function(
            "(e) => document.querySelector('#kb-message textarea')?.value.includes(e)", arg=expected
        )
        page.get_by_text(expected).last.wait_for()  # the toast says it too
    good = tmp_path / "998_new_notice.txt"
    good.write_text("最新上传的通知\n\n本通知用于检查新文档排在表格最前面。\n", encoding="utf-8")
    page.locator("#upload input[type=file]").set_input_files(str(good))
    page.locator("#upload").get_by_text("998_new_notice").first.wait_for()
    page.locator("#add-files").click()
    page.wait_for_function(
        "document.querySelector('#kb-message textarea')?.value.includes('1/1')", timeout=120_000
    )
    assert "已添加 added" in message.input_value()
    page.wait_for_function(
        "document.querySelector('#documents .virtual-row .body-cell')?.innerText.includes('最新上传的通知')",
        timeout=30_000,
    )
    page.locator("#show-ids input").check()
    page.wait_for_function(
        "document.querySelector('#documents .virtual-row')?.innerText.includes('998_new_notice')"
    )
    screenshot(page, "knowledge-base-desktop-light")
    page.locator("#show-ids input").uncheck()
    delete_ids = page.get_by_label("选择文档 Documents")
    delete_ids.click()
    page.get_by_role("option", name=re.compile("最新上传的通知")).click()
    page.locator("#delete").click()
    confirm = page.locator("#delete-confirm")
    confirm.wait_for(state="visible")
    assert "确定删除这 1 篇文档" in confirm.inner_text() and "cannot be undone" in confirm.inner_text()
    assert "最新上传的通知" in table.locator(".virtual-row").first.inner_text()  # not deleted yet
    page.locator("#delete-yes").click()
    page.wait_for_function(
        "document.querySelector('#kb-message textarea')?.value.includes('已删除 deleted 1')"
    )
    page.wait_for_function(
        "![...document.querySelectorAll('#documents .virtual-row')].some(r => r.innerText.includes('最新上传的通知'))"
    )
    confirm.wait_for(state="hidden")


def test_document_html_is_displayed_as_text(app_url, open_page, tmp_path):
    page = open_page(app_url)
    hostile = tmp_path / "999_xss.txt"
    hostile.write_text(XSS_DOC, encoding="utf-8")
    page.get_by_role("tab", name="知识库 Knowledge base").click()
    page.locator("#upload input[type=file]").set_input_files(str(hostile))
    page.locator("#upload").get_by_text("999_xss").first.wait_for()
    page.locator("#add-files").click()
    page.wait_for_function(
        "document.querySelector('#kb-message textarea')?.value.includes('1/1')", timeout=120_000
    )
    page.wait_for_function(  # newest first; a title with markup is not taken, the file name stands in
        "document.querySelector('#documents .virtual-row')?.innerText.includes('999_xss')"
    )
    assert page.evaluate("document.querySelectorAll('#documents img, #documents b').length") == 0
    page.get_by_role("tab", name="对话 Chat").click()
    ask(page, "熊猫繁育研究基地的门票价格是多少？")
    card = page.locator('.turn-sources.active .source-card[data-doc-id="999_xss"]').first
    card.wait_for()
    assert "<script>alert(1)</script>" in card.inner_text()
    assert "<img src=x onerror=alert(2)>" in card.inner_text()
    card.locator("button.read-doc").click()
    page.locator("#doc-preview .doc-preview").wait_for(state="visible")
    assert "<script>alert(1)</script>" in page.locator("#doc-preview").inner_text()
    injected = "document.querySelectorAll('#sources script, #sources img, #conversation script, #doc-preview img, #documents img').length"
    assert page.evaluate(injected) == 0


def test_thirty_answered_turns_render_and_stay_usable(app_url, open_page):
    page = open_page(app_url)
    questions = [
        CLUSTERS,
        "How many provincial modern service industry clusters has Sichuan established?",
        "武侯區產業園區高質量發展大會是哪天召開的？",
    ]
    for turn in range(30):
        send(page, questions[turn % len(questions)])
        wait_answers(page, turn + 1)
    assert page.locator(FINISHED).count() == 30 and page.locator(".msg-error").count() == 0
    assert page.locator(".turn-sources").count() == 1 and page.locator("#sources-30.active").count() == 1
    assert (
        page.evaluate("document.querySelector('#sources').innerHTML.length") < 40_000
    )  # one answer's sources
    page.locator("#conversation .msg-answer").first.locator("a.cite").first.click()
    page.locator("#sources-1.active .source-card.is-target").wait_for()  # fetched for the first answer
    assert page.locator("#conversations li.conv").count() == 1
    page.get_by_role("button", name="＋ 新对话 New chat").click()
    page.wait_for_function("document.querySelectorAll('#conversation .msg-answer').length === 0")


def test_the_chat_screen_says_what_the_knowledge_base_holds_and_which_settings_apply(app_url, open_page):
    page = open_page(app_url)
    summary = page.locator("#kb-summary").inner_text()
    assert re.search(
        r"知识库 sichuan · \d+ 篇文档 documents · \d+ 段 chunks", summary
    )  # earlier tests upload
    for expected in (
        "2018-02-13 – 2024-11-16",
        "摘录回答 · 不使用大模型 / quoted answers, no LLM",
    ):
        assert expected in summary
    assert page.locator("#kb-summary .kb-recent button.read-doc").count() == 5
    settings, chat = page.locator("#settings").bounding_box(), page.locator("#chat-scroll").bounding_box()
    assert (
        settings["y"] < chat["y"] and settings["y"] + settings["height"] < DESKTOP["height"]
    )  # above the fold
    active = page.locator("#active-settings .active-settings")
    assert "全部文档 all documents" in active.inner_text() and "filtered" not in active.get_attribute("class")
    page.locator("#settings").get_by_text("⚙ 检索设置 Retrieval settings").click()
    # the accordion opens with an animation: wait for it rather than read visibility at once
    page.get_by_text("混合：关键词 + 语义 Hybrid: words + meaning").wait_for(state="visible")
    page.get_by_text("引用段落数 Passages the answer may use").wait_for(state="visible")
    page.get_by_label("只在这些文档中检索 Only search these documents").click()
    page.get_by_role("option").first.click()
    page.wait_for_function("document.querySelector('#active-settings .active-settings.filtered')")
    page.locator("#settings").get_by_text("⚙ 检索设置 Retrieval settings").click()  # fold the settings away
    assert "仅 1 篇文档 only 1 document" in active.inner_text() and active.is_visible()
    page.locator("#settings").get_by_text("⚙ 检索设置 Retrieval settings").click()
    page.get_by_role("button", name="✕ 清除筛选 Clear filter").click()
    page.wait_for_function("!document.querySelector('#active-settings .active-settings.filtered')")
