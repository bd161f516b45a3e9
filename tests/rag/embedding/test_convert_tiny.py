"""The converter and both runners on a tiny synthetic E5S1 model: checks the weight mapping exactly."""

from __future__ import annotations

import functools
import json
import math
import shutil

import numpy as np
import pytest
from tiny_e5 import HEADS, LAYERS

from rag.embedding.e5_convert import BUILTIN_NAME, builtin_model_dir, ensure_builtin_model
from rag.embedding.e5_format import file_digest
from rag.embedding.models import OnnxEmbedder, SentenceTransformerEmbedder
from rag.embedding.onnx_backend import ensure_onnx_model, onnx_path
from rag.errors import EmbeddingError

pytestmark = pytest.mark.slow  # loads torch/transformers and exports ONNX (≈ 15 s)

TEXTS = ["hello world", "你好世界", "hello 你好 a, b", "world world world hello"]
_erf = np.vectorize(math.erf)


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-12) * w + b


def _linear(t: dict[str, np.ndarray], layer: int, name: str, x: np.ndarray) -> np.ndarray:
    return x @ t[f"l{layer}.{name}.w"].T + t[f"l{layer}.{name}.b"]


def reference_embedding(t: dict[str, np.ndarray], ids: list[int]) -> np.ndarray:
    """The forward pass of e5.c in float64, from the file's exact tensors."""
    x = t["emb.word"][ids] + t["emb.pos"][: len(ids)] + t["emb.type"][0]
    x = _layer_norm(x.astype(np.float64), t["emb.ln.w"], t["emb.ln.b"])
    hd = x.shape[1] // HEADS
    for i in range(LAYERS):
        p = functools.partial(_linear, t, i)
        q, k, v = p("q", x), p("k", x), p("v", x)
        ctx = np.zeros_like(x)
        for h in range(HEADS):
            s = slice(h * hd, (h + 1) * hd)
            scores = q[:, s] @ k[:, s].T / math.sqrt(hd)
            prob = np.exp(scores - scores.max(1, keepdims=True))
            ctx[:, s] = (prob / prob.sum(1, keepdims=True)) @ v[:, s]
        x = _layer_norm(x + p("ao", ctx), t[f"l{i}.aln.w"], t[f"l{i}.aln.b"])
        mid = p("fi", x)
        mid = 0.5 * mid * (1 + _erf(mid / math.sqrt(2)))
        x = _layer_norm(x + p("fo", mid), t[f"l{i}.oln.w"], t[f"l{i}.oln.b"])
    pooled = x.mean(0)
    return pooled / np.linalg.norm(pooled)


def _names(folder) -> list[str]:
    """What a folder holds, besides the build lock files (kept: removing a lock file races)."""
    return sorted(p.name for p in folder.iterdir() if not p.name.endswith(".lock"))


def test_folder_layout(tiny_e5, tiny_model_dir):
    assert tiny_model_dir.name == f"{BUILTIN_NAME}-{file_digest(tiny_e5[0])}"
    assert tiny_model_dir == builtin_model_dir(tiny_model_dir.parent, tiny_e5[0])
    tokenizer_config = json.loads((tiny_model_dir / "tokenizer_config.json").read_text())
    assert tokenizer_config["tokenizer_class"] == "PreTrainedTokenizerFast"
    st_config = json.loads((tiny_model_dir / "config_sentence_transformers.json").read_text())
    assert st_config["prompts"] == {"query": "query: ", "document": "passage: "}
    modules = json.loads((tiny_model_dir / "modules.json").read_text())
    assert [m["type"].rsplit(".", 1)[-1] for m in modules] == ["Transformer", "Pooling", "Normalize"]
    pooling = json.loads((tiny_model_dir / "1_Pooling" / "config.json").read_text())
    assert pooling.get("pooling_mode") == "mean" or pooling.get("pooling_mode_mean_tokens") is True
    assert _names(tiny_model_dir.parent) == [tiny_model_dir.name]  # no staging left
    assert tiny_model_dir.stat().st_mode & 0o777 == 0o777 & ~_umask()  # not mkdtemp's 0700


def test_existing_folder_is_reused(tiny_e5, tiny_model_dir):
    weights = tiny_model_dir / "model.safetensors"
    before = weights.stat().st_mtime_ns
    assert ensure_builtin_model(tiny_model_dir.parent, source=tiny_e5[0]) == tiny_model_dir
    assert weights.stat().st_mtime_ns == before


def test_missing_source_is_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match="packaged E5 weights not found"):
        ensure_builtin_model(tmp_path, source=tmp_path / "nope.bin")


def test_sentence_transformer_matches_reference_forward(tiny_e5, tiny_model_dir):
    embedder = SentenceTransformerEmbedder(
        tiny_model_dir, model_id="tiny", query_prompt="", passage_prompt=""
    )
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir, local_files_only=True)
    got = embedder.embed_passages(TEXTS)
    assert got.shape == (len(TEXTS), 32) and got.dtype == np.float32
    for text, row in zip(TEXTS, got, strict=True):
        want = reference_embedding(tiny_e5[1], tokenizer(text)["input_ids"])
        np.testing.assert_allclose(row, want, atol=2e-5, err_msg=text)


def test_prompts_come_from_the_folder(tiny_model_dir):
    embedder = SentenceTransformerEmbedder(tiny_model_dir, model_id="tiny")
    assert (embedder.query_prompt, embedder.passage_prompt) == ("query: ", "passage: ")
    plain = SentenceTransformerEmbedder(tiny_model_dir, model_id="tiny", passage_prompt="")
    np.testing.assert_allclose(
        embedder.embed_passages(["hello"])[0], plain.embed_passages(["passage: hello"])[0], atol=1e-6
    )
    np.testing.assert_allclose(
        embedder.embed_query("hello"), plain.embed_passages(["query: hello"])[0], atol=1e-6
    )


@pytest.mark.parametrize(
    ("name", "expected"), [("my-e5-copy", ("query: ", "passage: ")), ("plain", ("", ""))]
)
def test_e5_named_models_without_prompts_get_e5_prompts(tiny_model_dir, tmp_path, name, expected):
    copy = tmp_path / name
    shutil.copytree(tiny_model_dir, copy)
    config_file = copy / "config_sentence_transformers.json"
    config = json.loads(config_file.read_text())
    config["prompts"] = {"query": "", "document": ""}
    config_file.write_text(json.dumps(config))
    embedder = SentenceTransformerEmbedder(copy)
    assert (embedder.model_id, embedder.query_prompt, embedder.passage_prompt) == (str(copy), *expected)


def test_onnx_matches_torch_and_is_cached(tiny_model_dir):
    torch_embedder = SentenceTransformerEmbedder(tiny_model_dir, model_id="tiny")
    onnx_fp32 = OnnxEmbedder(tiny_model_dir, model_id="tiny", variant="fp32", batch_size=2)
    assert onnx_fp32.dimension == 32
    cos = (onnx_fp32.embed_passages(TEXTS) * torch_embedder.embed_passages(TEXTS)).sum(1)
    assert cos.min() > 0.99999
    np.testing.assert_allclose(onnx_fp32.embed_query("hello"), torch_embedder.embed_query("hello"), atol=1e-5)
    assert onnx_fp32.embed_passages([]).shape == (0, 32)

    int8 = OnnxEmbedder(tiny_model_dir, model_id="tiny", variant="int8")
    assert (int8.embed_passages(TEXTS) * torch_embedder.embed_passages(TEXTS)).sum(1).min() > 0.9
    cached = onnx_path(tiny_model_dir, "int8")
    before = cached.stat().st_mtime_ns
    assert ensure_onnx_model(tiny_model_dir, variant="int8") == cached
    assert cached.stat().st_mtime_ns == before
    assert _names(cached.parent) == ["model_opt.onnx", "model_opt_qint8r.onnx"]


def test_onnx_options_are_validated(tiny_model_dir, tmp_path):
    with pytest.raises(ValueError, match="variant must be one of fp32, int8; got 'fp16'"):
        ensure_onnx_model(tiny_model_dir, variant="fp16")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="batch_size must be at least 1; got 0"):
        OnnxEmbedder(tiny_model_dir, model_id="tiny", batch_size=0)
    with pytest.raises(EmbeddingError, match="not a converted model folder"):
        OnnxEmbedder(tmp_path, model_id="tiny")


def test_int8_alone_keeps_only_the_int8_file(tiny_model_dir, tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(tiny_model_dir, copy, ignore=shutil.ignore_patterns("onnx"))
    (copy / "onnx").mkdir()
    (copy / "onnx" / "model_opt_qint8.onnx").write_bytes(b"full-range int8 of an earlier version")
    built = ensure_onnx_model(copy, variant="int8")
    assert built == onnx_path(copy, "int8")
    assert _names(built.parent) == ["model_opt_qint8r.onnx"]  # no fp32, no build dir, no stale file
    assert built.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_an_int8_vector_does_not_depend_on_the_texts_beside_it(tiny_model_dir):
    # int8 quantises activations with one scale per run: in a padded batch a long neighbour
    # changed a short text's vector, so the same question could quote another sentence later.
    int8 = OnnxEmbedder(tiny_model_dir, model_id="tiny", variant="int8", batch_size=16)
    alone = int8.embed_passages(["short text"])[0]
    beside = int8.embed_passages(["short text", "a much longer text with several more words in it"])[0]
    np.testing.assert_array_equal(alone, beside)
