"""Helpers for the browser tests: viewport sizes, asking a question as a user does, screenshots
(saved under tests/artifacts/screenshots, which git ignores)."""

from __future__ import annotations

from pathlib import Path

from rag.settings import PROJECT_ROOT

SCREENSHOTS = PROJECT_ROOT / "tests" / "artifacts" / "screenshots"
DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}


FINISHED = "#conversation .msg-answer, #conversation .msg-error"


def send(page, question: str) -> None:
    """Type a question and press Enter (what a user does)."""
    page.fill("#question textarea", question)
    page.locator("#question textarea").press("Enter")


def wait_answers(page, count: int, timeout: int = 180_000) -> None:
    """Until ``count`` turns are finished (answered, failed or stopped)."""
    page.wait_for_function(f"document.querySelectorAll({FINISHED!r}).length >= {count}", timeout=timeout)


def ask(page, question: str) -> None:
    before = page.locator(FINISHED).count()
    send(page, question)
    wait_answers(page, before + 1)


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    print(f"screenshot: {path}")
    return path
