"""Conversations kept per browser in a small SQLite file under the data folder. No gradio here.

A browser is known by a random id kept in its local storage; each conversation belongs to one
browser and one knowledge base. A turn is stored as data (the question and ``Answer.to_dict()``),
not as HTML, and rendered again when the conversation is opened.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
import uuid
from contextlib import closing
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from rag.types import Answer, Citation, Passage
from ui.chat import ChatSession, ChatTurn

TITLE_CHARS = 60
_ID = re.compile(r"^[0-9a-f]{32}$")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY, browser TEXT NOT NULL, collection TEXT NOT NULL, title TEXT NOT NULL,
    created REAL NOT NULL, updated REAL NOT NULL);
CREATE INDEX IF NOT EXISTS conversations_by_browser ON conversations (browser, updated);
CREATE TABLE IF NOT EXISTS turns (
    conversation TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    number INTEGER NOT NULL, question TEXT NOT NULL, status TEXT NOT NULL, answer TEXT,
    text TEXT NOT NULL, error TEXT NOT NULL, settings_line TEXT NOT NULL, revised INTEGER NOT NULL,
    PRIMARY KEY (conversation, number));
"""


@dataclass(frozen=True)
class ConversationInfo:
    id: str
    collection: str
    title: str
    updated: float
    turns: int


def new_browser_id() -> str:
    return uuid.uuid4().hex


def valid_id(value: object) -> bool:
    return isinstance(value, str) and bool(_ID.match(value))


def title_of(question: str) -> str:
    text = " ".join(question.split())
    return text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1] + "…"


class ConversationStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.execute("PRAGMA journal_mode = WAL")  # readers do not wait for a turn being saved
            db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10)
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA synchronous = NORMAL")  # with WAL: durable except on power loss
        return db

    def list(self, browser: str) -> list[ConversationInfo]:
        """The browser's conversations, most recently used first."""
        with closing(self._connect()) as db:
            rows = db.execute(
                "SELECT c.id, c.collection, c.title, c.updated, COUNT(t.number) FROM conversations c "
                "LEFT JOIN turns t ON t.conversation = c.id WHERE c.browser = ? "
                "GROUP BY c.id ORDER BY c.updated DESC",
                (browser,),
            ).fetchall()
        return [ConversationInfo(*row) for row in rows]

    def save_turn(self, browser: str, session: ChatSession, turn: ChatTurn) -> None:
        """Add ``turn`` to the session's conversation, creating the conversation on its first turn."""
        now = time.time()
        with closing(self._connect()) as db, db:
            if session.conversation_id is None or not self._owns(db, browser, session.conversation_id):
                session.conversation_id = uuid.uuid4().hex
                session.title = session.title or title_of(turn.question)
                db.execute(
                    "INSERT INTO conversations VALUES (?, ?, ?, ?, ?, ?)",
                    (session.conversation_id, browser, session.collection, session.title, now, now),
                )
            answer = json.dumps(turn.answer.to_dict(), ensure_ascii=False) if turn.answer else None
            db.execute(
                "INSERT OR REPLACE INTO turns VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    session.conversation_id,
                    turn.number,
                    turn.question,
                    turn.status,
                    answer,
                    turn.text,
                    turn.error,
                    turn.settings_line,
                    int(turn.revised),
                ),
            )
            db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (now, session.conversation_id))

    def load(self, browser: str, conversation_id: str) -> ChatSession | None:
        with closing(self._connect()) as db:
            row = db.execute(
                "SELECT collection, title FROM conversations WHERE id = ? AND browser = ?",
                (conversation_id, browser),
            ).fetchone()
            if row is None:
                return None
            rows = db.execute(
                "SELECT number, question, status, answer, text, error, settings_line, revised FROM turns "
                "WHERE conversation = ? ORDER BY number",
                (conversation_id,),
            ).fetchall()
        session = ChatSession(row[0], conversation_id=conversation_id, title=row[1])
        for number, question, status, answer, text, error, line, revised in rows:
            restored = answer_from_dict(json.loads(answer)) if answer else None
            session.turns.append(
                ChatTurn(number, question, status, restored, text, error, line, bool(revised))
            )
        answered = [t.number for t in session.turns if t.answer is not None]
        session.selected = answered[-1] if answered else None
        return session

    def rename(self, browser: str, conversation_id: str, title: str) -> bool:
        title = title_of(title)
        if not title:
            return False
        with closing(self._connect()) as db, db:
            changed = db.execute(
                "UPDATE conversations SET title = ? WHERE id = ? AND browser = ?",
                (title, conversation_id, browser),
            ).rowcount
        return bool(changed)

    def delete(self, browser: str, conversation_id: str) -> bool:
        with closing(self._connect()) as db, db:
            changed = db.execute(
                "DELETE FROM conversations WHERE id = ? AND browser = ?", (conversation_id, browser)
            ).rowcount
        return bool(changed)

    @staticmethod
    def _owns(db: sqlite3.Connection, browser: str, conversation_id: str) -> bool:
        row = db.execute(
            "SELECT 1 FROM conversations WHERE id = ? AND browser = ?", (conversation_id, browser)
        ).fetchone()
        return row is not None


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def answer_from_dict(data: dict[str, Any]) -> Answer:
    """The inverse of ``Answer.to_dict`` (fields it does not know are left out)."""
    citations = []
    for c in data.get("citations", []):
        values = _known(Citation, c)
        values["highlights"] = tuple(tuple(pair) for pair in values.get("highlights", ()))
        citations.append(Citation(**values))
    values = _known(Answer, {**data, "text": data.get("answer", "")})
    values["citations"] = citations
    values["passages"] = [_passage_from_dict(p) for p in data.get("passages", [])]
    return Answer(**values)


def _passage_from_dict(data: dict[str, Any]) -> Passage:
    values = _known(Passage, data)
    values["doubtful"] = tuple(tuple(span) for span in values.get("doubtful", ()))
    return Passage(**values)
