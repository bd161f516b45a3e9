"""Scanned-document fixtures: text rendered to page images, saved as an image-only PDF (no text
layer) or as image files, the way a scanner would deliver a printed page. Imported as ``scans``
(pytest puts tests/ on sys.path)."""

from __future__ import annotations

import shutil
import subprocess
from functools import cache
from pathlib import Path

PAGE = (1240, 1754)  # A4 at 150 dpi
MARGIN = 110
FONT_PX = 30
LINE_GAP = 16  # pixels between the lines of a paragraph
PARAGRAPH_GAP = 34  # extra pixels between paragraphs (blank lines in the source text)


@cache
def cjk_font() -> str | None:
    """A CJK font file (Noto CJK from fonts-noto-cjk, found with fc-list), or None."""
    known = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
    if known.is_file():
        return str(known)
    if shutil.which("fc-list") is None:
        return None
    listed = subprocess.run(
        ["fc-list", ":lang=zh", "file"], capture_output=True, text=True, check=False, timeout=30
    ).stdout
    files = sorted(line.split(":")[0].strip() for line in listed.splitlines() if line.strip())
    return files[0] if files else None


def render_pages(text: str, *, font_px: int = FONT_PX) -> list:
    """Page images (PIL, RGB) of ``text``: each source line wrapped to the page width, blank lines
    as paragraph gaps."""
    from PIL import Image, ImageDraw, ImageFont

    font_file = cjk_font()
    if font_file is None:
        raise RuntimeError("no CJK font (install fonts-noto-cjk)")
    font = ImageFont.truetype(font_file, font_px)
    width = PAGE[0] - 2 * MARGIN
    pages, y, draw = [], PAGE[1], None
    for line in text.splitlines():
        line = " ".join(line.split())
        if not line:
            y += PARAGRAPH_GAP
            continue
        for row in _wrap(line, font, width):
            if y + font_px > PAGE[1] - MARGIN:
                pages.append(Image.new("RGB", PAGE, "white"))
                draw, y = ImageDraw.Draw(pages[-1]), MARGIN
            draw.text((MARGIN, y), row, font=font, fill="black")
            y += font_px + LINE_GAP
    return pages


def _wrap(line: str, font, width: int) -> list[str]:
    """Chinese wraps at any character, English at the last space (as a word processor does)."""
    rows, current = [], ""
    for char in line:
        if current and font.getlength(current + char) > width:
            cut = current.rfind(" ") if char.isascii() and char.isalnum() else -1
            if cut > 0 and current[cut + 1 :].isascii():
                rows.append(current[:cut])
                current = current[cut + 1 :] + char
            else:
                rows.append(current.rstrip())
                current = "" if char == " " else char
        else:
            current += char
    return rows + ([current] if current else [])


def scanned_pdf(text: str, path: Path) -> Path:
    """An image-only PDF of ``text``: each page one JPEG image, as a scanner writes it (quality 95:
    at Pillow's default 75 the artefacts make PP-OCRv5 drop simple characters such as 月, 日)."""
    pages = render_pages(text)
    pages[0].save(path, "PDF", save_all=True, append_images=pages[1:], resolution=150, quality=95)
    return path


def scanned_image(text: str, path: Path) -> Path:
    """The first page of ``text`` as an image file (format from the suffix: .png, .jpg, .tif)."""
    render_pages(text)[0].save(path)
    return path
