"""The grammatical gender a given name implies, for resolving "he" and "she".

The data is nomquamgender's (Van Buskirk, Clauset and Larremore, MIT licence): some 720,000
given names, each with the share of its bearers recorded as women across 36 sources. A name
counts as female at 0.9 or more, as male at 0.1 or less, and as unknown in between or when
fewer than :data:`_MIN_COUNT` bearers were recorded. The file is read once per process,
without importing the package's module (which needs pandas): only its JSON is used.
"""

from __future__ import annotations

import importlib.util
import logging
from functools import cache
from pathlib import Path
from typing import Literal

import orjson
from anyascii import anyascii

log = logging.getLogger(__name__)

Gender = Literal["female", "male"]
_MIN_COUNT = 20
_FEMALE, _MALE = 0.9, 0.1
# role and kinship nouns that say a person's gender whatever the name: general English
_FEMALE_NOUNS = frozenset({
    "mother", "daughter", "sister", "wife", "widow", "grandmother", "aunt", "niece",
    "spokeswoman", "chairwoman", "businesswoman", "congresswoman", "councilwoman",
    "sportswoman", "actress", "queen", "princess", "duchess", "mrs", "ms", "miss", "madam",
    "dame", "lady", "girl", "woman",
})  # fmt: skip
_MALE_NOUNS = frozenset({
    "father", "son", "brother", "husband", "widower", "grandfather", "uncle", "nephew",
    "spokesman", "chairman", "businessman", "congressman", "councilman", "sportsman",
    "actor", "king", "prince", "duke", "mr", "sir", "lord", "boy", "man",
})  # fmt: skip


@cache
def _given_names() -> dict[str, Gender]:
    """Folded given name → gender, for the names the data is clear about."""
    spec = importlib.util.find_spec("nomquamgender")
    locations = spec.submodule_search_locations if spec else None
    if not locations:
        log.warning("nomquamgender is not installed: pronouns resolve without name genders")
        return {}
    raw = orjson.loads((Path(next(iter(locations))) / "name_data.json").read_bytes())
    names: dict[str, Gender] = {}
    for name, values in raw.items():
        count, share = values[1], values[2]
        if count < _MIN_COUNT or not name.isalpha():
            continue
        if share >= _FEMALE:
            names[name] = "female"
        elif share <= _MALE:
            names[name] = "male"
    return names


def name_gender(given: str) -> Gender | None:
    """The gender a given name implies ("Grace" → female), or None when unclear."""
    return _given_names().get(anyascii(given).lower())


def noun_gender(lemma: str) -> Gender | None:
    """The gender a role or kinship noun or an honorific implies ("spokeswoman" → female)."""
    word = lemma.lower().rstrip(".")
    if word in _FEMALE_NOUNS:
        return "female"
    if word in _MALE_NOUNS:
        return "male"
    return None


def pronoun_gender(pronoun: str) -> Gender | None:
    word = pronoun.lower()
    if word in ("she", "her", "hers", "herself"):
        return "female"
    if word in ("he", "him", "his", "himself"):
        return "male"
    return None


def is_given_name(word: str) -> bool:
    """Whether ``word`` is a given name the data knows with a clear gender."""
    return anyascii(word).lower() in _given_names()
