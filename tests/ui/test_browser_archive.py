"""The policy archive in headless Chromium: a knowledge base holding a plan and the newer plan
that repeals it, and a docx with a table of tasks. An answer citing the old plan marks its
passage superseded and points to the newer figure; a table row is drawn as a table with the cited
cell marked; a document's metadata is edited in the knowledge-base tab and saved to its sidecar;
the eval tab shows a run's intervals and its paired comparison with the baseline.
Screenshots go to tests/artifacts/screenshots. Hash embedder and in-memory Chroma (the real
components are in test_browser.py)."""

from __future__ import annotations

import re
import shutil
import time
import tomllib

import pytest
from fakes import HashEmbedder
from pages import ask, screenshot
from policy_pair import NEW, OLD

from rag.index import KnowledgeBase
from rag.pipeline import Assistant
from rag.settings import PROJECT_ROOT, Settings
from rag.sidecar import sidecar_of
from ui.service import AssistantPool
from vectorstore.chroma_store import make_client

pytestmark = [pytest.mark.slow, pytest.mark.integration]

HEADER = ["任务", "牵头单位", "目标值"]
ROWS = [["建设现代服务业集聚区", "省发展改革委", "49个"], ["培育服务业龙头企业", "省商务厅", "100家"]]
ISSUER = "四川省人民政府"


SLOW = "慢速上传检查"  # a file holding this takes a while to embed, so the upload can be watched


class SlowUploads(HashEmbedder):
    def embed_passages(self, texts):
        if any(SLOW in t for t in texts):
            time.sleep(3)
        return super().embed_passages(texts)


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    docx = pytest.importorskip("docx")
    folder = tmp_path_factory.mktemp("archive")
    (folder / "plan_2018.txt").write_text(OLD, encoding="utf-8")
    (folder / "plan_2021.txt").write_text(NEW, encoding="utf-8")
    document = docx.Document()
    document.add_paragraph("四川省服务业发展重点任务分工方案")
    document.add_paragraph("为推动服务业高质量发展，现将重点任务分工如下。")
    table = document.add_table(rows=len(ROWS) + 1, cols=3)
    for row, values in zip(table.rows, [HEADER, *ROWS], strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.save(folder / "tasks.docx")
    return folder


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("ui-archive")


@pytest.fixture(scope="module")
def archive_url(data_dir, archive, serve, chromium):
    # A collection name of its own: in-memory Chroma clients of one process share their store, and
    # the chat tests' server ingests the bundled corpus into the default "sichuan".
    settings = Settings(data_dir=data_dir, progress=False, corpus=(archive,), collection="archive-ui")
    client, embedder = make_client(), SlowUploads()

    def assistant(s: Settings) -> Assistant:
        return Assistant(s, kb=KnowledgeBase(settings=s, embedder=embedder, client=client))

    pool = AssistantPool(settings, factory=assistant, client=client)
    pool.get(settings.collection).ingest()
    with serve(settings, pool) as url:
        yield url


def test_the_old_plan_is_marked_superseded_and_the_newer_figure_given(archive_url, open_page):
    page = open_page(archive_url)
    ask(page, "全省建成省级现代服务业集聚区的目标是多少个？")
    answer = page.locator("#conversation .msg-answer").last
    text = answer.locator(".answer-text").inner_text()
    assert "60个" in text and "注意" in text  # the newer figure, and the note on the repealed plan
    assert answer.locator(".revised-note").count() == 0  # the note was streamed, not a revision
    old = page.locator('#sources .source-card[data-doc-id="plan_2018"]').first
    old.wait_for()
    badge = old.locator(".meta-item.superseded")
    assert badge.get_attribute("data-newer") == "plan_2021"
    assert "已废止或被替代 Superseded by" in badge.inner_text()
    assert "服务业发展规划(2021—2025年)" in badge.inner_text()  # the newer document by its title
    assert page.locator('#sources .source-card[data-doc-id="plan_2021"] .meta-item.superseded').count() == 0
    old.scroll_into_view_if_needed()
    screenshot(page, "superseded-desktop-light")


def test_a_table_row_is_cited_and_drawn_as_a_table(archive_url, open_page):
    page = open_page(archive_url)
    ask(page, "培育服务业龙头企业的牵头单位是谁？")
    card = page.locator('#sources .source-card[data-doc-id="tasks"]').first
    card.wait_for()
    assert card.locator("table th").all_inner_texts() == HEADER
    assert "省商务厅" in card.locator("table td mark.cited-span").all_inner_texts()
    screenshot(page, "table-row-desktop-light")


def test_metadata_is_edited_in_the_knowledge_base_tab(archive_url, archive, open_page):
    page = open_page(archive_url)
    page.get_by_role("tab", name="知识库 Knowledge base").click()
    page.locator("#meta-editor").get_by_text("编辑文档元数据 Edit document metadata").click()
    page.locator("#meta-doc input").click()
    page.get_by_role("option", name=re.compile("2018-03-01")).click()  # title (cut) · date
    title = page.locator("#meta-title textarea, #meta-title input").first
    page.wait_for_function(
        "(document.querySelector('#meta-title textarea, #meta-title input')?.value || '').includes('2018')"
    )
    assert "服务业发展规划(2018—2020年)" in title.input_value()
    number = page.locator("#meta-doc_number textarea, #meta-doc_number input").first
    assert number.input_value() == "川办发〔2018〕5号"
    issuer = page.locator("#meta-issuer textarea, #meta-issuer input").first
    issuer.fill(ISSUER)
    page.locator("#save-meta").click()
    page.wait_for_function(
        "document.querySelector('#kb-message textarea')?.value.includes('metadata saved')", timeout=60_000
    )
    message = page.locator("#kb-message textarea").input_value()
    assert "issuer" in message and "vectors recomputed: 0" in message
    assert tomllib.loads(sidecar_of(archive / "plan_2018.txt").read_text(encoding="utf-8")) == {
        "issuer": ISSUER
    }
    assert issuer.input_value() == ISSUER  # shown as stored now
    screenshot(page, "metadata-editor-desktop-light")


def test_the_eval_tab_shows_intervals_and_the_paired_comparison_in_both_languages(
    archive_url, data_dir, open_page
):
    run = data_dir / "eval" / "archive-20260101-000000"
    run.mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "eval" / "baselines" / "archive.json", run / "summary.json")
    page = open_page(archive_url)
    page.get_by_role("tab", name="评测 Eval").click()
    assert "eval-archive" in page.locator("#tabs").inner_text()  # the runner's knowledge base, named
    page.get_by_role("button", name="查看最近一次 Latest run").click()
    table = page.locator("table.eval-summary")
    table.wait_for()
    headers = table.locator("thead th").all_inner_texts()
    assert headers[:3] == ["指标 metric", "全部 all", "95% 置信区间 CI"]
    assert "archive: 17 题 questions" in table.locator("caption").inner_text()
    assert table.locator("td .ci").count() >= 5
    page.wait_for_function(
        "[...document.querySelectorAll('.cm-content')].some((e) => e.innerText.includes('CI of delta'))"
    )  # the gate's paired comparison: delta, its interval, p
    screenshot(page, "eval-desktop-light")


def test_knowledge_base_messages_are_bilingual_and_an_upload_shows_one_progress_bar(
    archive_url, open_page, tmp_path
):
    page = open_page(archive_url)
    page.get_by_role("tab", name="知识库 Knowledge base").click()
    message = page.locator("#kb-message textarea")
    page.locator("#add-files").click()  # nothing chosen
    page.wait_for_function(
        "document.querySelector('#kb-message textarea')?.value.includes('请先选择文件。 No files selected.')"
    )
    page.locator("#meta-editor").get_by_text("编辑文档元数据 Edit document metadata").click()
    page.locator("#save-meta").click()  # no document picked
    page.wait_for_function(
        "document.querySelector('#kb-message textarea')?.value.includes('Select the document to edit first')"
    )
    page.get_by_text("新建知识库 New knowledge base").click()
    page.locator("#new-kb-name input, #new-kb-name textarea").first.fill("x!")
    page.locator("#create-kb").click()
    page.wait_for_function("document.querySelector('#kb-message textarea')?.value.includes('cannot be used')")
    assert "名称「x!」不可用" in message.input_value()

    slow = tmp_path / "slow_notice.txt"
    slow.write_text(
        f"上传进度检查\n\n{SLOW}：这份通知嵌入得很慢，用来观察上传时的进度条。\n", encoding="utf-8"
    )
    page.locator("#upload input[type=file]").set_input_files(str(slow))
    page.locator("#upload").get_by_text("slow_notice").first.wait_for()
    page.locator("#add-files").click()
    page.locator(
        "#kb-message .progress-text, #kb-message .eta-bar, #kb-message .progress-level"
    ).first.wait_for()
    shown = page.evaluate(
        """() => [...document.querySelectorAll('[data-testid="status-tracker"]')]
             .filter((e) => !e.classList.contains('hide') && e.offsetParent !== null).length"""
    )
    assert shown == 1  # the result box's, not one per component the upload changes
    page.wait_for_function(
        "document.querySelector('#kb-message textarea')?.value.includes('1/1')", timeout=60_000
    )
