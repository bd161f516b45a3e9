"""ONNX Runtime for a BERT-style sentence-transformers folder with mean pooling (the builtin E5).

The encoder is exported once with ``torch.onnx.export`` (eager attention, so ONNX Runtime's
transformer optimiser can fuse it), optimised, and optionally quantised to int8 per channel. The
files are cached in ``<model folder>/onnx/``, each written under a temporary name and renamed.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import warnings
from pathlib import Path
from typing import Literal

import numpy as np

from rag.embedding.e5_convert import build_lock, chmod_default, quiet_progress

log = logging.getLogger(__name__)

Variant = Literal["fp32", "int8"]
VARIANTS: tuple[Variant, ...] = ("fp32", "int8")
# int8 weights use 7 bits (``reduce_range``): without VNNI (AVX2 only, e.g. AMD EPYC) ONNX Runtime's
# u8×s8 kernel sums pairs of products in 16 bits, which saturate with full-range weights, so the
# same model gave other vectors on such a CPU than on one with VNNI (eval gate: MRR@10 0.817 on a
# Xeon, 0.781 on an EPYC). With 7 bits no sum saturates and both compute the same integers
# (cosine to fp32 on 120 corpus lines and questions, EPYC: min 0.991 -> 0.994, median 0.996 -> 0.997).
_FILES = {"fp32": "model_opt.onnx", "int8": "model_opt_qint8r.onnx"}
_STALE = ("model_opt_qint8.onnx",)  # full-range int8 of earlier versions
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OPSET = 17


def onnx_path(model_dir: Path, variant: Variant) -> Path:
    return model_dir / "onnx" / _FILES[variant]


def ensure_onnx_model(model_dir: Path, *, variant: Variant = "fp32") -> Path:
    """Return the cached ONNX file for ``variant``, building what is missing.

    Building int8 without a cached fp32 file keeps only the int8 one (the fp32 file is 470 MB).
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {', '.join(VARIANTS)}; got {variant!r}")
    target = onnx_path(model_dir, variant)
    if target.is_file():
        return target
    with build_lock(target.parent, target.name):  # another process building it: wait, then reuse
        if not target.is_file():
            _build_onnx(model_dir, variant, target)
    return target


def _build_onnx(model_dir: Path, variant: Variant, target: Path) -> None:
    with tempfile.TemporaryDirectory(prefix=".build-", dir=target.parent) as tmp:
        work = Path(tmp)
        optimised = onnx_path(model_dir, "fp32")
        if not optimised.is_file():
            export_onnx(model_dir, work / "raw.onnx")
            optimised = work / "fp32.onnx"
            optimise_onnx(work / "raw.onnx", optimised, model_dir)
        built = optimised
        if variant == "int8":
            built = work / "int8.onnx"
            quantise_onnx(optimised, built)
        chmod_default(built)
        os.replace(built, target)  # same folder: atomic
    for name in _STALE:
        (target.parent / name).unlink(missing_ok=True)


def export_onnx(model_dir: Path, out_file: Path) -> None:
    """Export the encoder (inputs: ids, mask, token types; output: ``last_hidden_state``)."""
    import torch
    from transformers import AutoModel

    log.info("exporting %s to ONNX (one-off)", model_dir)
    with quiet_progress():
        model = AutoModel.from_pretrained(
            model_dir, attn_implementation="eager", local_files_only=True
        ).eval()

    class _Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            out = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state

    ids = torch.tensor([[0, 5, 6, 7, 2], [0, 8, 9, 2, 1]], dtype=torch.long) % model.config.vocab_size
    mask = (ids != 1).long()
    dynamic = {name: {0: "batch", 1: "sequence"} for name in (*_INPUTS, "last_hidden_state")}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer chatter about shape-dependent Python branches
        torch.onnx.export(
            _Encoder(),
            (ids, mask, torch.zeros_like(ids)),
            str(out_file),
            input_names=list(_INPUTS),
            output_names=["last_hidden_state"],
            dynamic_axes=dynamic,
            opset_version=OPSET,
            dynamo=False,
        )


def optimise_onnx(in_file: Path, out_file: Path, model_dir: Path) -> None:
    """Fuse attention, LayerNorm and GELU with ONNX Runtime's BERT optimiser (CPU)."""
    from onnxruntime.transformers.optimizer import optimize_model

    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    model = optimize_model(
        str(in_file),
        model_type="bert",
        num_heads=int(config["num_attention_heads"]),
        hidden_size=int(config["hidden_size"]),
        opt_level=1,
        use_gpu=False,
    )
    log.info("ONNX fused operators: %s", model.get_fused_operator_statistics())
    model.save_model_to_file(str(out_file))


def quantise_onnx(in_file: Path, out_file: Path) -> None:
    """Dynamic int8 quantisation (7-bit weights, see ``_FILES``), per output channel, of the matrix
    multiplications."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()  # the quantiser logs advice through the root logger
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        quantize_dynamic(
            str(in_file),
            str(out_file),
            per_channel=True,
            reduce_range=True,
            weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul", "Attention"],
            # Outputs of the fused contrib operators have no inferred type: they are float.
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    finally:
        root.setLevel(level)


class OnnxEncoder:
    """Tokenise, run the ONNX encoder, mean-pool over real tokens, L2-normalise."""

    def __init__(
        self, model_dir: Path, onnx_file: Path, *, threads: int | None = None, max_length: int = 512
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        if threads is not None and threads < 1:
            raise ValueError(f"threads must be at least 1 or None; got {threads}")
        if max_length < 8:
            raise ValueError(f"max_length must be at least 8; got {max_length}")
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        pad_id = self.tokenizer.token_to_id("<pad>")
        self.tokenizer.enable_truncation(max_length)
        self.tokenizer.enable_padding(pad_id=1 if pad_id is None else pad_id)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self.session.get_inputs()}
        self.dimension = int(self.session.get_outputs()[0].shape[-1])

    def encode(self, texts: list[str], *, batch_size: int = 16) -> np.ndarray:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1; got {batch_size}")
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")  # similar lengths pad less
        for start in range(0, len(texts), batch_size):
            idx = order[start : start + batch_size]
            out[idx] = self._encode_batch([texts[i] for i in idx])
        return out

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        (hidden,) = self.session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
