"""The limits every door applies to an article (push, replay, ingest, the enrich agent).

The short fields' limits live on the :class:`~streams.records.Article` model itself, so any
door that builds one checks them; the text's limit is a setting, checked here.
"""

from __future__ import annotations

from streams.errors import RecordError
from streams.records import Article


class TooLong(RecordError):
    """The article's text is over ``STREAMS_MAX_ARTICLE_CHARS``."""


def check_article(article: Article, *, max_chars: int) -> Article:
    """``article`` when its text is neither blank nor over ``max_chars``, else RecordError."""
    if not article.text.strip():
        raise RecordError("the article text is empty")
    if len(article.text) > max_chars:
        raise TooLong(
            f"the article has {len(article.text)} characters, over the limit of "
            f"{max_chars} (STREAMS_MAX_ARTICLE_CHARS)"
        )
    return article
