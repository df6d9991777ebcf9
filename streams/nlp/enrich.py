"""Articles in, enriched articles out: the pure core that the agent and ``streams extract`` share.

:class:`Enricher` holds one spaCy pipeline and runs it batched (``nlp.pipe``). It never raises
for one bad article: each result is either an :class:`EnrichedArticle` or a
:class:`~streams.errors.ProcessingError` naming what failed, so the caller can dead-letter that
one article and go on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from streams.errors import ProcessingError
from streams.nlp.attribution import extract_statements
from streams.nlp.pipeline import load_pipeline, model_label
from streams.nlp.speakers import ArticleSpeakers
from streams.records import Article, EnrichedArticle, Entity

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

    from streams.settings import Settings

log = logging.getLogger(__name__)

Result = EnrichedArticle | ProcessingError


class Enricher:
    """Runs spaCy and the extraction over batches of articles."""

    def __init__(
        self, nlp: Language, *, batch_size: int = 16, max_statements: int | None = None
    ) -> None:
        self.nlp = nlp
        self.batch_size = batch_size
        self.max_statements = max_statements
        self.model = model_label(nlp)

    @classmethod
    def from_settings(cls, settings: Settings) -> Enricher:
        return cls(
            load_pipeline(settings.model, settings.model_fallback),
            batch_size=settings.batch_size,
            max_statements=settings.max_statements,
        )

    def enrich(self, articles: Sequence[Article]) -> list[Result]:
        """One result per article, in order."""
        results: list[Result] = []
        docs = self.nlp.pipe((a.text for a in articles), batch_size=self.batch_size)
        for article in articles:
            try:
                doc = next(docs)
                results.append(self.enrich_doc(article, doc))
            except StopIteration:  # pragma: no cover - nlp.pipe yields one doc per text
                results.append(ProcessingError(f"spaCy returned no doc for {article.article_id}"))
            except Exception as exc:  # one article's failure must not sink the batch
                log.exception("enrichment failed for article %s", article.article_id)
                results.append(ProcessingError(f"enrichment failed: {type(exc).__name__}: {exc}"))
        return results

    def enrich_doc(self, article: Article, doc: Doc) -> EnrichedArticle:
        """Entities and statements of one parsed article."""
        entities = tuple(
            Entity(text=e.text, label=e.label_, start=e.start_char, end=e.end_char)
            for e in doc.ents
        )
        statements = tuple(extract_statements(doc, article.article_id, ArticleSpeakers(doc)))
        # each statement carries its article's metadata: a subscriber of `statements` needs
        # no join with the articles
        about = {
            "url": article.url,
            "source": article.source,
            "title": article.title,
            "published_at": article.published_at,
            "fetched_at": article.fetched_at,
        }
        statements = tuple(s.model_copy(update=about) for s in statements)
        truncated = self.max_statements is not None and len(statements) > self.max_statements
        if truncated:
            log.warning(
                "article %s: %d statements, keeping the first %d (STREAMS_MAX_STATEMENTS)",
                article.article_id,
                len(statements),
                self.max_statements,
            )
            statements = statements[: self.max_statements]
        return EnrichedArticle(
            article_id=article.article_id,
            url=article.url,
            source=article.source,
            title=article.title,
            published_at=article.published_at,
            fetched_at=article.fetched_at,
            lang=article.lang,
            entities=entities,
            statements=statements,
            statements_truncated=truncated,
            model=self.model,
        )
