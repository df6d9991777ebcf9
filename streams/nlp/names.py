"""Comparing personal names: transliteration, titles, phonetic and spelling variants.

Shared by the within-article resolution (:mod:`.speakers`) and the cross-article registry
(:mod:`.registry`), so that both agree on when two spellings are one name.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable
from functools import lru_cache
from typing import TypeVar

import jellyfish
from anyascii import anyascii
from rapidfuzz import fuzz

from streams.nlp.gender import name_gender

#: Honorifics and titles that precede a name; left out of canonical names and name matching.
TITLES = frozenset({
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "professor", "sir", "dame", "lord", "lady",
    "rev", "reverend", "sen", "senator", "rep", "representative", "gov", "governor", "gen",
    "general", "col", "colonel", "capt", "captain", "lt", "sgt", "adm", "admiral", "president",
    "vice", "prime", "minister", "secretary", "chancellor", "premier", "mayor", "judge",
    "justice", "king", "queen", "prince", "princess", "pope", "sheikh", "ayatollah", "st",
})  # fmt: skip
#: Particles of family names ("von der Leyen", "al-Gharbawi", "Dela Cruz", "bin Salman"): part
#: of the surname, never a given name, and written or dropped, joined or hyphenated, as each
#: outlet prefers; so they are left out when names are compared.
PARTICLES = frozenset({
    "al", "el", "ul", "bin", "ibn", "bint", "abu", "van", "von", "der", "den", "de", "del",
    "della", "di", "da", "dos", "das", "du", "la", "le", "ter", "ten", "dela", "zu", "y",
})  # fmt: skip
K = TypeVar("K", bound=Hashable)
_NEAR = 85.0
_PHONETIC_FLOOR = 70.0


def strip_titles(name: str) -> str:
    """A person's name without leading titles: "Mr. Obama" → "Obama"."""
    words = name.split()
    while len(words) > 1 and words[0].lower().rstrip(".") in TITLES:
        words = words[1:]
    return " ".join(words)


def name_words(name: str) -> list[str]:
    """ASCII, lower-case words of a name, titles dropped: "Mr. Erdoğan" → ["erdogan"]."""
    return list(_name_words(name))


@lru_cache(maxsize=8192)  # each known name is matched again at every later mention
def _name_words(name: str) -> tuple[str, ...]:
    folded = anyascii(name).lower().replace("-", " ").replace(".", " ")
    words = [w for w in ("".join(c for c in part if c.isalnum()) for part in folded.split()) if w]
    while len(words) > 1 and words[0] in TITLES:
        words = words[1:]
    core = [w for w in words if w not in PARTICLES]
    return tuple(core or words)


def same_surname(a: str, b: str) -> bool:
    """Spelling and transliteration variants of one (folded) surname: with the same initial,
    near in spelling (rapidfuzz ratio ≥ 85), or phonetically equal (Metaphone) and fairly near.
    """
    if a == b:
        return True
    if not a or not b or a[0] != b[0]:
        return False
    if (a[-1] == "a") != (b[-1] == "a"):
        # a feminine form (Slavic and Baltic surnames: Zelenska, Navalnaya, Ivanova) names
        # another person than the masculine one (Zelensky, Navalny, Ivanov)
        return False
    ratio = fuzz.ratio(a, b)
    # a shared Metaphone code alone is too lenient for short names, so it needs some
    # spelling overlap too
    return ratio >= _NEAR or (
        ratio >= _PHONETIC_FLOOR and jellyfish.metaphone(a) == jellyfish.metaphone(b)
    )


def same_given_name(a: str, b: str) -> bool:
    """Given names that can be one person's: equal, near in spelling, one an initial of the
    other, or transliterations of one name ("Mohammed" / "Muhammad", "Yevgeny" / "Evgeny",
    "Dmitry" / "Dmitri"): the same consonant skeleton, when the names' genders do not differ.
    """
    if len(a) == 1 or len(b) == 1:
        return a[0] == b[0]
    if a == b:
        return True
    gender_a, gender_b = name_gender(a), name_gender(b)
    if gender_a and gender_b and gender_a != gender_b:
        return False  # "Daniel" and "Danielle", "Eric" and "Erica"
    if a[0] == b[0] and fuzz.ratio(a, b) >= _NEAR:
        return True
    key = given_name_key(a)
    return len(key) >= 3 and key == given_name_key(b)


_VOWELS = frozenset("aeiouy")
#: initials that given names of one person can begin with (see :func:`given_name_class`)
_INITIAL_CLASSES = ("aeiouy", "fp", "chkqsxz", "vw")


def given_name_class(name: str) -> str:
    """A coarse class of a folded given name's initial, equal for any two names that
    :func:`same_given_name` can take for one: initials are equal there, or the initials
    of their :func:`given_name_key` are, which the spelling alternations move within one
    class (a vowel or "y"; "ph" and "f"; "kh", "h", "c", "k", "q", "x", "s" and "z"; "w" and
    "v"). The registry files people under their surname and this class."""
    first = next((c for c in name if c.isalpha()), "")
    return next((group[0] for group in _INITIAL_CLASSES if first in group), first) or "0"


_SPELLINGS = (
    ("ph", "f"), ("kh", "h"), ("ck", "k"), ("q", "k"), ("x", "ks"), ("w", "v"), ("z", "s"),
)  # fmt: skip
_SOFT_C = re.compile(r"c(?=[eiy])")
_SILENT_H = re.compile(r"(?<=[aeiouy])h(?![aeiouy])")


@lru_cache(maxsize=8192)
def given_name_key(name: str) -> str:
    """A transliteration-tolerant key of a folded given name: the consonant skeleton after
    the spelling alternations that romanisations of one name differ by (ph/f, kh/h, c/k,
    w/v, z/s, a silent h, a leading y before a vowel), with any initial vowel as "a"."""
    word = "".join(c for c in name if c.isalpha())
    if word[:1] == "y" and word[1:2] in "aeiou":
        word = word[1:]  # Yevgeny / Evgeny, Yusuf / Usuf
    for old, new in _SPELLINGS:
        word = word.replace(old, new)
    word = _SILENT_H.sub("", _SOFT_C.sub("s", word)).replace("c", "k")
    if not word:
        return ""
    key = "a" if word[0] in _VOWELS else word[0]
    for c in word[1:]:
        if c not in _VOWELS and c != key[-1]:
            key += c
    return key


def same_person(words: list[str], known: list[str]) -> bool:
    """Whether the full name ``words`` can be the full name ``known``."""
    if len(known) < 2 or len(words) < 2:
        return False
    if same_surname(known[-1], words[-1]):
        return same_given_name(known[0], words[0])
    # family name first, written in either order ("Xi Jinping", "Jinping Xi")
    return known[0] == words[-1] and known[-1] == words[0]


def by_bare_name(
    word: str, known: Iterable[tuple[K, list[str]]], *, first_of_several: bool = False
) -> K | None:
    """The one known full name (given as ``(key, name words)``) that a lone ``word`` can
    stand for: an exact surname first, then a spelling variant of one, then the first word
    of a family-name-first name ("Xi" for "Xi Jinping"). None when none fits, or when two
    different keys fit at the first step that finds any ("Clinton" after Hillary and Bill),
    unless ``first_of_several``: then the first of them in ``known``'s order.
    """
    full = [(key, words) for key, words in known if len(words) >= 2]
    for fits in (
        lambda w: w[-1] == word,
        lambda w: same_surname(w[-1], word),
        lambda w: w[0] == word,
    ):
        keys = list(dict.fromkeys(key for key, words in full if fits(words)))
        if keys:
            return keys[0] if len(keys) == 1 or first_of_several else None
    return None
