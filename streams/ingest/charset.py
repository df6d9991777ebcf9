"""The character encoding of a feed or a page: the declared one, else UTF-8, else a guess.

Declared means a byte-order mark, a ``charset`` in the Content-Type header, an XML
declaration's ``encoding`` or an HTML ``<meta charset>``, in that order. A body that declares
nothing and is not UTF-8 is given to charset-normalizer, which guesses from the bytes (feedparser
alone falls back to windows-1252, which garbles Cyrillic, Greek or CJK feeds).
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([\w.:-]+)["']""")
_META_CHARSET = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE
)  # <meta charset="…"> and <meta http-equiv="Content-Type" content="…; charset=…">
#: Bytes of a page in which a <meta> charset is looked for (HTML5 asks for the first 1024).
_META_WINDOW = 4096


def declared(body: bytes, content_type: str = "") -> str | None:
    """The encoding the body or its Content-Type declares, if it is one Python knows."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name
    header = _HEADER_CHARSET.search(content_type)
    if header is not None:
        name = header.group(1)
    else:
        head = body[:_META_WINDOW]
        inside = _XML_ENCODING.search(head) or _META_CHARSET.search(head)
        if inside is None:
            return None
        name = inside.group(1).decode("ascii")
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def guess(body: bytes) -> str:
    """UTF-8 when the body is valid UTF-8, else charset-normalizer's best guess (or UTF-8)."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        best = charset_normalizer.from_bytes(body).best()
        if best is not None:
            return str(best.encoding)
    return "utf-8"


def utf8(body: bytes, content_type: str = "") -> tuple[bytes, bool]:
    """The body in UTF-8 when it declares no encoding (as it is, or re-encoded from the guess),
    and whether it did: ``(body, False)`` for a body that declares its own."""
    if declared(body, content_type) is not None:
        return body, True
    encoding = guess(body)
    if encoding == "utf-8":
        return body, False
    return body.decode(encoding, errors="replace").encode("utf-8"), False


def decode(body: bytes, content_type: str = "") -> str:
    """The body as text: in its declared encoding, else as UTF-8, else as guessed.

    A declaration the bytes contradict (``us-ascii`` over UTF-8 text, say) is passed over.
    """
    for encoding in (declared(body, content_type), "utf-8"):
        if encoding is not None:
            try:
                return body.decode(encoding)
            except UnicodeDecodeError:
                pass
    return body.decode(guess(body), errors="replace")
