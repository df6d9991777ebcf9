"""Articles from files: ``.txt`` (one article per file), ``.json`` (an object or a list of
objects) and ``.jsonl`` (one object per line)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from streams import ids
from streams.codec import loads_json, validate
from streams.errors import InputError
from streams.records import Article

SUFFIXES = (".txt", ".json", ".jsonl")


def expand(paths: Iterable[Path]) -> list[Path]:
    """Files named, and the supported files under folders named, in a stable order."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file()))
        elif path.is_file():
            out.append(path)
        else:
            raise InputError(f"{path}: no such file or folder")
    return out


def read_articles(paths: Iterable[Path]) -> Iterator[Article | InputError]:
    """Every article in ``paths``; a bad file or line yields an :class:`InputError` instead."""
    for path in expand(paths):
        try:
            if path.suffix == ".txt":
                yield article_from_text(path.read_text(encoding="utf-8"), source=path.name)
            elif path.suffix == ".json":
                data = loads_json(path.read_bytes())
                for obj in data if isinstance(data, list) else [data]:
                    yield _or_error(obj, f"{path}")
            elif path.suffix == ".jsonl":
                with path.open("rb") as fh:
                    for lineno, line in enumerate(fh, 1):
                        if line.strip():
                            try:
                                yield article_from_object(loads_json(line))
                            except InputError as exc:
                                yield InputError(f"{path}:{lineno}: {exc}")
            else:
                yield InputError(f"{path}: unsupported file type (use {', '.join(SUFFIXES)})")
        except (OSError, UnicodeDecodeError, InputError) as exc:
            yield InputError(f"{path}: {exc}")


def _or_error(obj: Any, where: str) -> Article | InputError:
    try:
        return article_from_object(obj)
    except InputError as exc:
        return InputError(f"{where}: {exc}")


def article_from_text(text: str, *, source: str | None = None) -> Article:
    """An article whose text is exactly ``text`` (offsets refer to it)."""
    return Article(article_id=ids.article_id(text=text), text=text, source=source)


def article_from_object(obj: Any) -> Article:
    """An article from a JSON object; ``article_id`` is derived when absent."""
    if not isinstance(obj, dict):
        raise InputError(f"expected a JSON object, got {type(obj).__name__}")
    text = obj.get("text")
    if not isinstance(text, str):
        raise InputError("the article has no `text` string")
    fields = dict(obj)
    fields["article_id"] = ids.article_id(
        given=obj.get("article_id") if isinstance(obj.get("article_id"), str) else None,
        url=obj.get("url") if isinstance(obj.get("url"), str) else None,
        text=text,
    )
    return validate(Article, fields)
