"""Deterministic identities, so that any worker computes the same id for the same thing.

- ``article_id``: given by the source, else a hash of the canonical URL, else of the text.
- ``statement_id``: a hash of the article id, the statement's character span and its content.
- ``text_digest``: a hash of an article's exact text, what a reused ``article_id`` is told by.
- ``speaker_id``: ``<type>:<slug of the canonical name>`` (``person:abbas-araghchi``).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import urlsplit, urlunsplit

from anyascii import anyascii
from courlan.clean import clean_query

_DIGEST_CHARS = 16


def digest(*parts: str) -> str:
    h = hashlib.blake2b(digest_size=_DIGEST_CHARS // 2)
    for part in parts:
        h.update(part.encode("utf-8"))
        h.update(b"\x1f")  # unit separator: ("ab", "c") and ("a", "bc") must differ
    return h.hexdigest()


def canonical_url(url: str) -> str:
    """The form of a URL that identifies an article.

    Scheme and host lower-cased, default port, fragment and tracking parameters (``utm_*``,
    ``fbclid``, ``ref``… after courlan's list) dropped, remaining query parameters sorted.
    """
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if parts.port and not (
        (parts.scheme == "http" and parts.port == 80)
        or (parts.scheme == "https" and parts.port == 443)
    ):
        host = f"{host}:{parts.port}"
    try:
        query = clean_query(parts.query)
    except ValueError:
        query = parts.query
    return urlunsplit((parts.scheme.lower(), host, parts.path or "/", query, ""))


def article_id(*, given: str | None = None, url: str | None = None, text: str = "") -> str:
    """The article's id: the source's own, else a hash of its canonical URL, else of its text."""
    if given and given.strip():
        return given.strip()
    if url and url.strip():
        return digest("url", canonical_url(url))
    return digest("text", unicodedata.normalize("NFC", text))


def statement_id(article: str, start: int, end: int, content: str) -> str:
    """Stable over redelivery, new when the words change.

    The same article, span and words give the same id; an article id reused for another
    text gives other ids for whatever words changed, so a subscriber that deduplicates by
    statement id never drops a statement it has not seen.
    """
    return digest("statement", article, str(start), str(end), content)


def text_digest(text: str) -> str:
    """A hash of an article's exact text (no normalisation: offsets refer to it)."""
    return digest("text-version", text)


_NON_SLUG = re.compile(r"[^a-z0-9]+")


def slug(name: str) -> str:
    """Accent-folded, lower-case, hyphen-separated ASCII form of a name."""
    ascii_only = anyascii(name).lower()  # "Søren Kjærgaard" → "soren-kjaergaard"
    return _NON_SLUG.sub("-", ascii_only).strip("-") or digest("slug", name)


def speaker_id(kind: str, canonical_name: str) -> str:
    """``person:volodymyr-zelensky``: type and slug of the canonical name."""
    return f"{kind}:{slug(canonical_name)}"
