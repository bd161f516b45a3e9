"""The one loader for versioned prompt files in ``prompts/``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from langchain_core.prompts import PromptTemplate

from rag.errors import ConfigError

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"


@dataclass(frozen=True)
class PromptSet:
    """Named templates of one prompt file, grouped by language table."""

    name: str
    version: str
    tables: dict[str, dict[str, str]]

    def render(self, key: str, *, language: str, **variables: str) -> str:
        table = self.tables.get(language) or self.tables["en"]
        if key not in table:
            raise ConfigError(f"prompt {self.version} has no template {key!r} for {language}")
        template = PromptTemplate.from_template(table[key])
        missing = set(template.input_variables) - set(variables)
        if missing:
            raise ConfigError(f"prompt {self.version}:{key} needs {', '.join(sorted(missing))}")
        return template.format(**{k: v for k, v in variables.items() if k in template.input_variables})


@cache
def load_prompts(name: str, directory: Path = PROMPTS_DIR) -> PromptSet:
    path = directory / f"{name}.toml"
    if not path.is_file():
        raise ConfigError(f"prompt file not found: {path}")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    version = data.pop("version", name)
    tables = {lang: dict(table) for lang, table in data.items() if isinstance(table, dict)}
    return PromptSet(name=name, version=version, tables=tables)
