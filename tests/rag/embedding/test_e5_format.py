"""Fast tests of the E5S1 reader and the tokenizer pieces of the converter (no model loading)."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from tiny_e5 import HIDDEN, LAYERS, NORM_MAP, PIECES, SPECIALS, q4_encode

from rag.embedding.e5_convert import _proto_bytes_field, bert_state, build_tokenizer, precompiled_charsmap
from rag.embedding.e5_format import dequantize_q4, file_digest, read_e5_file


def test_dequantize_q4_matches_the_engine_layout():
    # One block: scale 0.5; byte j holds weight j (low nibble) and weight j + 16 (high nibble).
    low = np.arange(16, dtype=np.uint8)
    high = 15 - low
    raw = struct.pack("<e", 0.5) + bytes(low | (high << 4))
    values = dequantize_q4(raw, 1, 32)
    expected = np.concatenate([low, high]).astype(np.float32) - 8
    np.testing.assert_array_equal(values[0], expected * 0.5)


def test_dequantize_q4_random_matrix():
    rng = np.random.default_rng(1)
    raw, exact = q4_encode(np.zeros((5, 64), np.float32), rng)
    np.testing.assert_array_equal(dequantize_q4(raw, 5, 64), exact)


def test_dequantize_q4_rejects_ragged_rows():
    with pytest.raises(ValueError, match="multiple of 32"):
        dequantize_q4(b"", 1, 40)


def test_read_e5_file_round_trips_the_tiny_model(tiny_e5):
    path, exact = tiny_e5
    e5 = read_e5_file(path)
    assert (e5.header.hidden, e5.header.layers, e5.header.intermediate) == (HIDDEN, LAYERS, 64)
    assert e5.vocab.pieces == SPECIALS + PIECES + ["<mask>"]
    assert (e5.vocab.bos_id, e5.vocab.eos_id, e5.vocab.pad_id, e5.vocab.unk_id) == (0, 2, 1, 3)
    assert e5.vocab.norm_map == [(chr(cp), "".join(map(chr, outs))) for cp, outs in NORM_MAP]
    assert set(e5.tensors) == set(exact)
    for name, values in exact.items():
        np.testing.assert_array_equal(e5.tensors[name], values, err_msg=name)
    assert e5.tensors["l0.fi.w"].shape == (64, HIDDEN)
    assert e5.tensors["l0.fo.w"].shape == (HIDDEN, 64)


def test_read_e5_file_rejects_other_files(tmp_path):
    bad = tmp_path / "x.bin"
    bad.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(ValueError, match="not an E5S1 model"):
        read_e5_file(bad)


def test_file_digest_is_short_and_content_based(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"one")
    b.write_bytes(b"two")
    assert len(file_digest(a)) == 12
    assert file_digest(a) != file_digest(b)


def test_bert_state_covers_every_layer(tiny_e5):
    state = bert_state(read_e5_file(tiny_e5[0]))
    assert state["encoder.layer.1.intermediate.dense.weight"].shape == (64, HIDDEN)
    assert len(state) == 5 + LAYERS * 16


def test_proto_bytes_field_skips_other_fields():
    message = bytes([0x0A, 2]) + b"hi" + bytes([0x18, 1]) + bytes([0x12, 3]) + b"abc"
    assert _proto_bytes_field(message, field=2) == b"abc"
    with pytest.raises(ValueError, match="field 7 not found"):
        _proto_bytes_field(message, field=7)


def test_precompiled_charsmap_applies_the_table_only():
    from tokenizers import normalizers

    charsmap = precompiled_charsmap([("\u3000", " "), ("\uff21", "A"), ("\x01", ""), ("½", "1⁄2")])
    normalizer = normalizers.Precompiled(charsmap)
    assert normalizer.normalize_str("\uff21\x01b\u3000½") == "Ab 1⁄2"
    assert normalizer.normalize_str("ｂ") == "ｂ"  # not in the table: NFKC would fold it, the engine does not


def test_tokenizer_pipeline_matches_the_engine_rules(tiny_e5):
    e5 = read_e5_file(tiny_e5[0])
    tok = build_tokenizer(e5.vocab, 64)
    ids = tok("hello  world")["input_ids"]  # double space collapses; ▁ is prepended
    assert tok.convert_ids_to_tokens(ids) == ["<s>", "▁hello", "▁world", "</s>"]
    assert tok.convert_ids_to_tokens(tok("你好世界")["input_ids"])[1:-1] == ["▁你好", "世界"]
    # The table maps U+3000 to a space and deletes U+0001.
    assert tok("hello\u3000wor\x01ld")["input_ids"] == tok("hello world")["input_ids"]
    assert tok.convert_ids_to_tokens(tok("q")["input_ids"]) == ["<s>", "▁", "<unk>", "</s>"]
