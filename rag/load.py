"""Read files into Documents carrying their raw text and metadata (cleaning comes later).

Text files (and HTML and Markdown) are decoded by detection (see ``rag.encoding``); HTML keeps
block elements as paragraphs and drops scripts and page chrome; PDF pages and DOCX paragraphs
are joined by blank lines. Every failure is a LoadError naming the file and the reason.

Scanned pages (a PDF page without a text layer, or with too little) and image files are read by
OCR (``rag.ocr``, the ``[ocr]`` extra); the Document then keeps each recognised line with its
confidence (``Document.ocr_lines``).
"""

from __future__ import annotations

import io
import logging
import os
import re
import stat
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rag import ocr as ocr_
from rag import pdf, tables
from rag.encoding import UndecodableTextError, decode_text
from rag.errors import LoadError, MissingExtraError
from rag.metadata import extract_metadata
from rag.ocr import IMAGE_EXTENSIONS, OcrOptions
from rag.sidecar import apply_sidecar, content_hash
from rag.types import Document

if TYPE_CHECKING:  # the parsers are imported by the readers that use them (fast CLI start)
    from bs4 import Tag
    from docx.table import Table

logger = logging.getLogger(__name__)

SUPPORTED_EXTENSIONS: frozenset[str] = frozenset(
    {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx", *IMAGE_EXTENSIONS}
)


MB = 1024 * 1024
DEFAULT_OCR = OcrOptions()
_TEXT_EXTENSIONS = frozenset({".txt", ".md", ".markdown", ".html", ".htm"})


@dataclass(frozen=True)
class LoadLimits:
    """What one file may cost: characters of text, and for archives (.docx is a zip) the unpacked
    size and number of entries, checked before the archive is parsed."""

    max_chars: int = 1_000_000
    max_archive_bytes: int = 50 * MB
    max_archive_entries: int = 10_000

    def __post_init__(self) -> None:
        if min(self.max_chars, self.max_archive_bytes, self.max_archive_entries) < 1:
            raise ValueError(f"load limits must be positive; got {self}")


@dataclass(frozen=True)
class LoadFailure:
    """A file that could not be loaded, and why (one line)."""

    path: str
    reason: str


class _FileLoadError(LoadError):
    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"cannot load {path}: {reason}")
        self.path = str(path)
        self.reason = reason


class _MissingOcrError(_FileLoadError, MissingExtraError):
    """A scanned file arrived and the [ocr] extra is not installed."""


class _UnreadableError(ValueError):
    """Raised by an extractor with a reason a user can act on."""


# --- public API --------------------------------------------------------------------------------


def load_document(
    path: Path, *, limits: LoadLimits = LoadLimits(), ocr: OcrOptions = DEFAULT_OCR
) -> Document:
    """Load one file; raise LoadError (path and reason in one line) when it cannot be read or is
    over ``limits``. Only regular files are opened (a FIFO would block the read forever).
    Scanned pages are read as ``ocr`` says."""
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in SUPPORTED_EXTENSIONS:
        supported = ", ".join(sorted(SUPPORTED_EXTENSIONS))
        raise _FileLoadError(
            path, f"unsupported file type {ext or '(no extension)'!r} (supported: {supported})"
        )
    data = _read_regular_file(path, limits)
    if not data.strip():
        raise _FileLoadError(path, "file is empty")
    if ext == ".docx":
        _check_archive(path, data, limits)
    text, title_hint, lines = _extract(path, ext, data, ocr)
    if len(text) > limits.max_chars:
        raise _FileLoadError(path, _too_long(len(text), limits))
    meta = apply_sidecar(path, extract_metadata(text, filename=path.name, html_title=title_hint))
    digest = content_hash(path, data)  # the sidecar (name.meta.toml) is part of the state
    return Document(
        doc_id=path.stem, source_path=str(path), sha256=digest, text=text, meta=meta, ocr_lines=lines
    )


def is_regular_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def _read_regular_file(path: Path, limits: LoadLimits) -> bytes:
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise _FileLoadError(path, "not a regular file (a folder, FIFO or device): skipped")
        if path.suffix.lower() in _TEXT_EXTENSIONS and info.st_size > 4 * limits.max_chars:
            # no encoding needs more than 4 bytes a character: over the limit without reading it
            raise _FileLoadError(path, _too_long(info.st_size // 4, limits, at_least=True))
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise _FileLoadError(path, f"cannot read file ({exc.strerror or exc})") from exc


def _too_long(chars: int, limits: LoadLimits, *, at_least: bool = False) -> str:
    size = f"at least {chars:,}" if at_least else f"{chars:,}"
    return (
        f"document too long: {size} characters, the limit is {limits.max_chars:,} "
        "(max_document_chars): split the file or raise the limit"
    )


def _check_archive(path: Path, data: bytes, limits: LoadLimits) -> None:
    """Refuse a zip whose entries would unpack past the limits (a zip bomb), reading only its
    directory. zipfile never returns more than an entry's declared size, so declared sizes bound
    what the parser can be made to unpack."""
    try:
        entries = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise _FileLoadError(path, f"cannot parse DOCX (not a zip archive: {_one_line(str(exc))})") from exc
    if len(entries) > limits.max_archive_entries:
        raise _FileLoadError(
            path, f"archive has {len(entries):,} entries, the limit is {limits.max_archive_entries:,}"
        )
    unpacked = sum(entry.file_size for entry in entries)
    if unpacked > limits.max_archive_bytes:
        raise _FileLoadError(
            path,
            f"archive unpacks to {unpacked / MB:,.0f} MB, the limit is {limits.max_archive_bytes / MB:,.0f} MB "
            "(max_archive_mb): refused before parsing",
        )


def load_documents(paths: Iterable[Path]) -> tuple[list[Document], list[LoadFailure]]:
    """Load files and directories (walked recursively); a bad file is reported, the rest go on."""
    documents: list[Document] = []
    failures: list[LoadFailure] = []
    loaded_from: dict[str, str] = {}
    for path in _expand(paths):
        try:
            document = load_document(path)
        except LoadError as exc:
            logger.warning("%s", exc)
            failures.append(LoadFailure(str(path), getattr(exc, "reason", str(exc))))
            continue
        if document.doc_id in loaded_from:
            reason = (
                f"duplicate doc_id {document.doc_id!r} (already loaded from {loaded_from[document.doc_id]})"
            )
            logger.warning("skipping %s: %s", path, reason)
            failures.append(LoadFailure(str(path), reason))
            continue
        loaded_from[document.doc_id] = document.source_path
        documents.append(document)
    logger.info("loaded %d documents, %d failures", len(documents), len(failures))
    return documents, failures


# --- files and directories ---------------------------------------------------------------------


def _expand(paths: Iterable[Path]) -> Iterator[Path]:
    for path in map(Path, paths):
        if path.is_dir():
            yield from _walk(path)
        else:
            yield path


def _walk(root: Path) -> list[Path]:
    def wanted(path: Path) -> bool:
        hidden = any(part.startswith(".") for part in path.relative_to(root).parts)
        return not hidden and path.suffix.lower() in SUPPORTED_EXTENSIONS and path.is_file()

    return sorted(path for path in root.rglob("*") if wanted(path))


def _extract(path: Path, ext: str, data: bytes, ocr: OcrOptions) -> tuple[str, str | None, tuple]:
    lines: tuple[tuple[str, float], ...] = ()
    try:
        if ext == ".pdf" or ext in IMAGE_EXTENSIONS:
            text, lines = _read_pdf(data, ocr) if ext == ".pdf" else _read_image(data, ocr)
            title_hint = None
        else:
            text, title_hint = _EXTRACTORS[ext](data)
    except MissingExtraError as exc:
        raise _MissingOcrError(path, str(exc)) from None
    except (_UnreadableError, UndecodableTextError, UnicodeDecodeError) as exc:
        raise _FileLoadError(path, _one_line(str(exc))) from exc
    except Exception as exc:  # parsers raise many types on corrupt input; report, don't crash
        reason = f"cannot parse {ext[1:].upper()} ({type(exc).__name__}: {_one_line(str(exc))})"
        raise _FileLoadError(path, reason) from exc
    # NUL bytes (stray in text files, common in PDF text layers) are never content
    text = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    if not text.strip():
        hint = " (a scanned PDF without a text layer?)" if ext == ".pdf" else ""
        if ext == ".pdf" or ext in IMAGE_EXTENSIONS:
            hint += " and OCR read no text" if ocr.enabled else " (OCR is off: setting ocr)"
        raise _FileLoadError(path, f"no text content{hint}")
    return text, title_hint, lines


def _one_line(message: str, limit: int = 200) -> str:
    message = " ".join(message.split())
    return message if len(message) <= limit else message[: limit - 1] + "…"


# --- extractors: bytes -> (text, title hint) ---------------------------------------------------

_DROP_TAGS = (
    "script", "style", "nav", "header", "footer", "aside", "noscript", "template",
    "iframe", "svg", "button", "select", "head",
)  # fmt: skip
_BLOCK_TAGS = (
    "address", "article", "blockquote", "caption", "dd", "div", "dl", "dt", "figcaption", "figure",
    "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "ol", "p", "pre",
    "section", "table", "tr", "ul",
)  # fmt: skip
_META_CHARSET_RE = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_\-]+)", re.IGNORECASE)
_TITLE_SITE_SUFFIX_RE = re.compile(r"\s*(?:[_|｜]|\s-\s|\s—\s).*$")


def _read_plain(data: bytes) -> tuple[str, str | None]:
    return decode_text(data), None


def _read_html(data: bytes) -> tuple[str, str | None]:
    declared = _META_CHARSET_RE.search(data[:4096])
    text = decode_text(data, declared.group(1).decode("ascii") if declared else None)
    from bs4 import BeautifulSoup, NavigableString
    from bs4.element import PreformattedString

    soup = BeautifulSoup(text, "html.parser")
    page_title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup.find_all(_DROP_TAGS):
        if not tag.decomposed and not _is_article_header(tag):
            tag.decompose()
    for special in soup.find_all(string=lambda node: isinstance(node, PreformattedString)):
        special.extract()  # comments, doctype, processing instructions
    h1 = soup.find("h1")
    heading = h1.get_text(" ", strip=True) if h1 else ""
    for node in soup.find_all(string=True):
        if node.find_parent("pre") is None:
            node.replace_with(NavigableString(re.sub(r"\s+", " ", str(node))))
    for br in soup.find_all("br"):
        br.replace_with(NavigableString("\n"))
    for table in reversed(soup.find_all("table")):  # inner tables first
        table.replace_with(NavigableString("\n\n" + "\n\n".join(_html_table(table)) + "\n\n"))
    for block in soup.find_all(_BLOCK_TAGS):
        block.insert_before(NavigableString("\n\n"))
        block.append(NavigableString("\n\n"))
    title = heading or _TITLE_SITE_SUFFIX_RE.sub("", page_title) or None
    return _tidy(soup.get_text()), title


def _html_table(table: Tag) -> list[str]:
    """Rows as lines (``rag.tables``): the header is the <thead> row or a first row of <th>."""
    rows = [
        [cell.get_text(" ", strip=True) for cell in row.find_all(("td", "th"), recursive=False)]
        for row in table.find_all("tr")
        if row.find_parent("table") is table
    ]
    return tables.table_lines(rows)


def _is_article_header(tag: Tag) -> bool:
    """A <header>/<footer> inside <article> or <main> holds the article's title and date."""
    return tag.name in ("header", "footer") and tag.find_parent(("article", "main")) is not None


def _tidy(text: str) -> str:
    """Strip each line and keep at most one blank line between paragraphs."""
    lines = [line.strip() for line in text.replace("\xa0", " ").splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


_MD_FRONT_MATTER_RE = re.compile(r"\A---\n.*?\n---\n", re.DOTALL)
_MD_HEADING_RE = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_MD_SKIP_LINE_RE = re.compile(r"^\s*(?:```|~~~|(?:[-*_=]\s*){3,}$)")
_MD_INLINE = (
    (re.compile(r"<!--.*?-->"), ""),
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),
    (re.compile(r"(\*\*|__)(.+?)\1"), r"\2"),
    (re.compile(r"`([^`]+)`"), r"\1"),
    (re.compile(r"^\s{0,3}>\s?"), ""),
)


def _read_markdown(data: bytes) -> tuple[str, str | None]:
    text = _MD_FRONT_MATTER_RE.sub("", decode_text(data).replace("\r\n", "\n"), count=1)
    lines: list[str] = []
    title: str | None = None
    for line in text.split("\n"):
        heading = _MD_HEADING_RE.match(line)
        if heading:
            if title is None and len(heading.group(1)) == 1:
                title = heading.group(2)
            lines += ["", _md_inline(heading.group(2)), ""]
        elif not _MD_SKIP_LINE_RE.match(line):
            lines.append(_md_inline(line))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip(), title


def _md_inline(line: str) -> str:
    for pattern, replacement in _MD_INLINE:
        line = pattern.sub(replacement, line)
    return line


def _read_pdf(data: bytes, ocr: OcrOptions) -> tuple[str, tuple[tuple[str, float], ...]]:
    """The text layer of each page (ruled tables as rows, ``rag.pdf``); pages with (almost) none
    are read by OCR. Without the [ocr] extra a PDF that has some text keeps it (with a warning);
    one with none is refused."""
    try:
        pages = pdf.page_texts(data)
    except pdf.EncryptedPdfError as exc:
        raise _UnreadableError(str(exc)) from None
    return ocr_.read_scanned_pages(data, pages, ocr)


def _read_image(data: bytes, ocr: OcrOptions) -> tuple[str, tuple[tuple[str, float], ...]]:
    if not ocr.enabled:
        raise _UnreadableError("an image needs OCR, which is turned off (setting ocr = false)")
    return ocr_.read_image(data, ocr)


def _read_docx(data: bytes) -> tuple[str, str | None]:
    import docx
    from docx.table import Table

    document = docx.Document(io.BytesIO(data))
    parts: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            parts.extend(_table_rows(block))
        else:
            parts.append(block.text.strip())
    return "\n\n".join(part for part in parts if part), None


def _table_rows(table: Table) -> list[str]:
    """Rows as lines with the first row as header (``rag.tables``)."""
    return tables.table_lines([[cell.text for cell in row.cells] for row in table.rows])


_EXTRACTORS: dict[str, Callable[[bytes], tuple[str, str | None]]] = {  # .pdf, images: _extract
    ".txt": _read_plain,
    ".md": _read_markdown,
    ".markdown": _read_markdown,
    ".html": _read_html,
    ".htm": _read_html,
    ".docx": _read_docx,
}
