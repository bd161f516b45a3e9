"""`rag api` as a real server (uvicorn on a loopback port) over the bundled corpus and the real
embedding model: the official ``openai`` client against it, and our own ``openai`` generator
(ChatOpenAI) using it as its LLM endpoint, end to end."""

from __future__ import annotations

import socket
import threading
import time

import openai
import pytest
import uvicorn

from rag.api import create_app
from rag.pipeline import Assistant
from rag.pool import AssistantPool
from rag.settings import Settings
from rag.types import Answer, Stage

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CLUSTERS = "四川省成功创建了多少个省级现代服务业集聚区？"


@pytest.fixture(scope="module")
def knowledge_bases(tmp_path_factory) -> AssistantPool:
    data_dir = tmp_path_factory.mktemp("api-data")
    cached = Settings().models_dir  # reuse the converted builtin model of the project's data dir
    if cached.is_dir():
        (data_dir / "models").mkdir()
        for folder in cached.iterdir():
            if (folder / "modules.json").is_file():
                (data_dir / "models" / folder.name).symlink_to(folder, target_is_directory=True)
    knowledge_bases = AssistantPool(Settings(data_dir=data_dir, progress=False))
    knowledge_bases.default.ingest()
    return knowledge_bases


@pytest.fixture(scope="module")
def base_url(knowledge_bases):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(knowledge_bases), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the API server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/v1"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def client(base_url) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url, api_key="x", max_retries=0)


def test_openai_client_gets_a_cited_answer(client):
    completion = client.chat.completions.create(
        model="tianfu-rag", messages=[{"role": "user", "content": CLUSTERS}]
    )
    content = completion.choices[0].message.content
    assert "49个省级现代服务业集聚区" in content and "\n\n[1] " in content
    citations = completion.model_extra["citations"]
    assert citations and citations[0]["doc_id"].startswith("000") and citations[0]["span"] in content
    assert completion.model_extra["x_rag"]["support"] == 1.0


def test_openai_client_streams_with_citations_in_the_last_chunk(client):
    chunks = list(
        client.chat.completions.create(
            model="tianfu-rag", stream=True, messages=[{"role": "user", "content": CLUSTERS}]
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert "49个省级现代服务业集聚区" in text and "\n\n[1] " in text
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["citations"][0]["doc_id"].startswith("000")


def test_openai_client_lists_models_and_gets_openai_errors(client):
    ids = [m.id for m in client.models.list()]
    assert ids[:2] == ["tianfu-rag", "tianfu-rag:sichuan"]
    with pytest.raises(openai.NotFoundError, match="the model 'gpt-4o' does not exist") as caught:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": CLUSTERS}])
    assert caught.value.code == "model_not_found"


def test_the_openai_generator_answers_through_rag_api_end_to_end(knowledge_bases, base_url):
    settings = knowledge_bases.default.settings.with_overrides(
        generator="openai", llm_base_url=base_url, llm_model="tianfu-rag", llm_max_retries=0
    )
    assistant = Assistant(settings, kb=knowledge_bases.default.kb)
    assert assistant.generator.name == "openai"
    events = [e for e in assistant.ask_stream(CLUSTERS) if not isinstance(e, Stage)]
    answer = events[-1]
    assert isinstance(answer, Answer) and len(events) > 2 and "49" in "".join(events[:-1])
    assert not answer.abstained and answer.generator == "openai"
    assert "49个省级现代服务业集聚区" in answer.text and "[1]" in answer.text
    assert answer.citations[0].doc_id.startswith("000") and "49" in answer.citations[0].span
    assert answer.support is not None and answer.unverified_citations
