"""Human-readable lines for ``streams tail --format readable`` and ``streams speakers``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

_MARKS = {"favor": "+", "against": "-", "neutral": "="}


def _when(record: dict[str, Any]) -> str:
    ms = record.get("timestamp")
    if not isinstance(ms, int):
        return "--:--:--"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%H:%M:%S")


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def readable(record: dict[str, Any], *, topic_kind: str | None = None) -> str:
    """One line for one record of a project topic; other topics as key and compact JSON."""
    value = record.get("value")
    head = f"{_when(record)} p{record.get('partition')}@{record.get('offset')}"
    if not isinstance(value, dict):
        return f"{head} {record.get('key')}: {_clip(str(value), 200)}"
    if "speaker" in value and "content" in value:  # Statement
        speaker = value["speaker"]
        stances = " ".join(
            f"{_MARKS.get(s.get('polarity'), '?')}{s.get('target')}"
            for s in value.get("stances") or ()
        )
        mention = speaker.get("mention")
        said = f"{speaker.get('name')} ({speaker.get('type')}"
        said += f', as "{mention}")' if mention and mention != speaker.get("name") else ")"
        quote = _clip(value["content"], 160)
        line = f"{head} {said} {value.get('cue')} [{value.get('kind')}]: “{quote}”"
        return line + (f"  stances: {stances}" if stances else "")
    if "entities" in value and "statements" in value:  # EnrichedArticle
        title = value.get("title") or value.get("url") or ""
        return (
            f"{head} {value.get('article_id')} {_clip(title, 80)} — "
            f"{len(value['statements'])} statements, {len(value['entities'])} entities"
        )
    if "stage" in value and "error" in value:  # DeadLetter
        where = f"{value.get('topic')}[{value.get('partition')}]@{value.get('offset')}"
        error = _clip(value["error"], 160)
        return f"{head} DEAD {value.get('stage')} {where} key={value.get('key')}: {error}"
    if "text" in value and "article_id" in value:  # Article
        title = value.get("title") or _clip(value["text"], 60)
        source = f" ({value['source']})" if value.get("source") else ""
        return (
            f"{head} {value['article_id']}{source} {_clip(title, 80)} — {len(value['text'])} chars"
        )
    return f"{head} {record.get('key')}: {_clip(orjson.dumps(value).decode(), 200)}"


def speakers_table(items: Sequence[dict[str, Any]]) -> str:
    """A plain-text table of speaker summaries (the API's list items)."""
    rows = [("speaker", "type", "statements", "articles", "top stances", "id")]
    for s in items:
        stances = ", ".join(
            f"{r['target']} {r['favor']}+/{r['neutral']}=/{r['against']}-"
            for r in (s.get("top_stances") or [])[:2]
        )
        rows.append(
            (
                s["name"],
                s["type"],
                str(s["statements"]),
                str(s["articles"]),
                _clip(stances, 48),
                s["id"],
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = (
            cell.rjust(w) if i in (2, 3) else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
