"""Article text from HTML: trafilatura for whole pages, a paragraph walk for feed content.

Paragraphs are separated by one newline, as trafilatura writes them and as the attribution
code reads them (a quote that runs on to the next paragraph is found by its layout).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

import lxml.html
import py3langid
import trafilatura
from lxml.etree import ParserError
from trafilatura.settings import Document

_BLOCKS = {
    "p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
    "section", "article", "tr", "figcaption", "dd", "dt",
}  # fmt: skip
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")


@dataclass(frozen=True)
class PageText:
    """The main text of a page and the metadata trafilatura found in it."""

    text: str
    title: str | None
    author: str | None
    published: datetime | None


def page_text(html: str | bytes, url: str | None = None) -> PageText | None:
    """The article in a web page, without navigation, ads or footer; None when there is none."""
    doc = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        include_images=False,
        deduplicate=True,
    )
    if not isinstance(doc, Document) or not (doc.text or "").strip():
        return None
    published = None
    if doc.date:
        try:
            published = datetime.fromisoformat(doc.date).replace(tzinfo=UTC)
        except ValueError:
            published = None
    return PageText(
        text=(doc.text or "").strip(), title=doc.title or None, author=doc.author or None,
        published=published,
    )  # fmt: skip


def fragment_text(html: str) -> str:
    """The text of an HTML fragment (a feed item's content), one line per block."""
    if "<" not in html:
        return _tidy(html)
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (ParserError, ValueError):
        return _tidy(re.sub(r"<[^>]*>", " ", html))
    for bad in root.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    parts: list[str] = []

    def walk(node: lxml.html.HtmlElement) -> None:
        if isinstance(node.tag, str) and node.tag.lower() in _BLOCKS:
            parts.append("\n")
        if node.text:
            parts.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                parts.append(child.tail)
        if isinstance(node.tag, str) and node.tag.lower() in _BLOCKS:
            parts.append("\n")

    walk(root)
    return _tidy("".join(parts))


def _tidy(text: str) -> str:
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def language(text: str) -> str:
    """ISO 639-1 code of the text's language (py3langid, on its first 2,000 characters)."""
    code, _score = py3langid.classify(text[:2000])
    return str(code)
