"""NLP over spaCy ``Doc`` objects: pure functions, testable without Kafka.

- :mod:`.pipeline` loads the spaCy pipeline (one per process, from the settings).
- :mod:`.quotes` finds quotation spans in text.
- :mod:`.lexicon` holds the reporting-verb lexicon.
- :mod:`.speakers` resolves a speaker mention to a canonical speaker within an article.
- :mod:`.attribution` finds statements (direct, indirect, mixed) and their speakers.
- :mod:`.stance` scores the speaker's stance toward targets named in a statement.
- :mod:`.enrich` turns articles into :class:`~streams.records.EnrichedArticle` records.
"""
