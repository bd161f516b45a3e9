"""The metadata editor of the knowledge-base tab: a document's fields read from its records,
saved to its sidecar and applied to every record without embedding anything, filters following
the new values; refused values leave everything as it was."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from rag.filters import make_filter
from rag.sidecar import sidecar_of
from ui import strings
from ui.app import build
from ui.meta_edit import FIELDS

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # gr.Warning outside a request warns

ISSUER = "测试市人民政府办公室"


@pytest.fixture
def app(corpus_pool):
    return build(corpus_pool.settings, pool=corpus_pool)


def _first_doc(app) -> str:
    return app.chat.kb_view(app.chat.pool.default_collection)[app.page.doc_order][0]


def _fields(app, doc_id: str) -> dict[str, str]:
    meta = app.knowledge.kb["meta"]
    out = app.knowledge.meta_fields(app.chat.pool.default_collection, doc_id)
    return {key: out[meta[key]] for key in FIELDS}


def test_picking_a_document_shows_its_stored_metadata(app, corpus_pool):
    doc_id = _first_doc(app)
    stored = corpus_pool.get(corpus_pool.default_collection).kb.registry()[doc_id][0].metadata
    fields = _fields(app, doc_id)
    assert fields["title"] == stored["title"] and fields["date"] == stored.get("date", "")
    out = app.knowledge.meta_fields(corpus_pool.default_collection, None)
    assert out[app.knowledge.kb["message"]] == f"✗ {strings.SELECT_TO_EDIT}"


def test_saved_metadata_reaches_the_sidecar_and_every_record_without_embedding(app, corpus_pool):
    collection = corpus_pool.default_collection
    kb = corpus_pool.get(collection).kb
    doc_id = _first_doc(app)
    vectors_before = kb.store.count()
    fields = _fields(app, doc_id) | {"issuer": ISSUER, "doc_type": "办法", "date": "2019-05-20"}
    out = app.knowledge.save_meta(collection, doc_id, False, *(fields[k] for k in FIELDS))
    message = out[app.knowledge.kb["message"]]
    assert message.startswith("✓") and "vectors recomputed: 0" in message, message
    assert "date, doc_type, issuer" in message

    source = Path(kb.registry()[doc_id][0].metadata["source_path"])
    sidecar = tomllib.loads(sidecar_of(source).read_text(encoding="utf-8"))
    assert sidecar == {"issuer": ISSUER, "date": "2019-05-20", "doc_type": "办法"}  # only what changed
    records = kb.registry()[doc_id]
    assert all(r.metadata["issuer"] == ISSUER and r.metadata["date_num"] == 20190520 for r in records)
    assert kb.store.count() == vectors_before
    assert _fields(app, doc_id)["issuer"] == ISSUER and out[app.page.meta_doc]["value"] == doc_id

    assistant = corpus_pool.get(collection)
    hits = assistant.search("服务业", where=make_filter(where=[f"issuer={ISSUER}"])).passages
    assert hits and {p.doc_id for p in hits} == {doc_id}
    assert (
        app.knowledge.save_meta(collection, doc_id, False, *(fields[k] for k in FIELDS))[
            app.knowledge.kb["message"]
        ]
        == strings.META_UNCHANGED
    )


def test_a_bad_date_is_refused_and_nothing_is_written(app, corpus_pool):
    collection = corpus_pool.default_collection
    kb = corpus_pool.get(collection).kb
    doc_id = _first_doc(app)
    before = kb.registry()[doc_id][0].metadata
    fields = _fields(app, doc_id) | {"date": "2019-13-40", "issuer": ISSUER}
    message = app.knowledge.save_meta(collection, doc_id, False, *(fields[k] for k in FIELDS))[
        app.knowledge.kb["message"]
    ]
    assert message.startswith("✗ 元数据未保存 metadata not saved") and "date must be a date" in message
    assert not sidecar_of(Path(before["source_path"])).exists()
    assert kb.registry()[doc_id][0].metadata == before


def test_a_document_whose_file_is_gone_cannot_be_edited(app, corpus_pool):
    collection = corpus_pool.default_collection
    doc_id = _first_doc(app)
    Path(corpus_pool.get(collection).kb.registry()[doc_id][0].metadata["source_path"]).unlink()
    fields = _fields(app, doc_id) | {"issuer": ISSUER}
    message = app.knowledge.save_meta(collection, doc_id, False, *(fields[k] for k in FIELDS))[
        app.knowledge.kb["message"]
    ]
    assert message == f"✗ {strings.source_gone(doc_id)}"
