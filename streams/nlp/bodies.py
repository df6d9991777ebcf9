"""Organisations named in one article, and the short forms that refer back to them.

News names a body once in full and then shortens it. Three general devices are resolved here:

- an **acronym** defined in parentheses after the full name ("the West African Coastal
  Highway Authority (WACHA)" … "WACHA said");
- a **short form**: the leading words of the full name ("Atlantic Gateway" for "Atlantic
  Gateway Terminals");
- a **definite description** ("the department", "their union", "the company", "the Danish
  drugmaker"): the head noun names the kind of body. A body whose own name ends in that noun
  ("… Meteorological Department") is the referent; a company-type noun ("company", "firm",
  "drugmaker", "retailer") refers to the latest body whose name is not that of a public
  institution. Without an earlier body of the kind, a later one that is the only one of its
  kind in the article is taken (a lead sentence that says "their union said" before naming it).

The tagger often cuts a long name at "and" or "of" ("Bangladesh Apparel Makers" | "and
Exporters Association"): a name is extended over such a connective when capitalised words
follow it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from streams.nlp.cues import quoted_mask
from streams.nlp.doccache import ents_of

if TYPE_CHECKING:
    from spacy.tokens import Doc, Token

#: Head nouns of public institutions and associations: a body so named is of that kind, and
#: is not what "the company" refers to. General English vocabulary, no names.
INSTITUTION_NOUNS = frozenset({
    "agency", "army", "assembly", "association", "authority", "board", "bureau", "cabinet",
    "chamber", "coalition", "commission", "committee", "council", "court", "department",
    "directorate", "embassy", "federation", "force", "government", "guard", "institute",
    "league", "ministry", "mission", "office", "organisation", "organization", "parliament",
    "party", "police", "presidency", "registry", "secretariat", "senate", "service", "society",
    "tribunal", "union", "administration", "inspectorate", "regulator", "watchdog", "museum",
    "university", "school", "hospital", "campaign", "foundation", "trust", "fund", "network",
})  # fmt: skip
#: Nouns that describe a business: "the company said" refers to the latest such body.
COMPANY_NOUNS = frozenset({
    "company", "firm", "business", "corporation", "conglomerate", "giant", "startup",
    "retailer", "lender", "bank", "insurer", "carrier", "airline", "operator", "producer",
    "manufacturer", "supplier", "developer", "publisher", "broadcaster", "miner", "chain",
    "brand", "maker", "owner", "buyer", "seller", "exporter", "importer", "club", "side",
    "outlet", "newspaper", "platform", "provider", "utility",
})  # fmt: skip
_CONNECTIVES = frozenset({"and", "of", "for", "&", "on"})
_MAX_ACRONYM = 10


@dataclass(frozen=True, slots=True)
class Body:
    """An organisation named in full in the article."""

    name: str
    start: int  # token span of its first full mention
    end: int
    acronym: str | None = None
    subject: bool = False  # the first full mention is a subject or a possessor

    @property
    def words(self) -> list[str]:
        return [w.strip("'’s").lower() for w in self.name.split()]

    @property
    def head(self) -> str:
        return self.words[-1] if self.words else ""

    @property
    def is_institution(self) -> bool:
        return any(w in INSTITUTION_NOUNS for w in self.words)


def company_noun(lemma: str) -> bool:
    """Whether a common noun describes a business ("drugmaker", "chipmaker", "retailer")."""
    word = lemma.lower()
    return word in COMPANY_NOUNS or word.endswith("maker")


def find_bodies(doc: Doc) -> list[Body]:
    """The organisations of the article: every name defined with an acronym ("… Authority
    (WACHA)"), and the tagger's organisations outside quotations, with their names extended
    and acronyms read."""
    bodies = defined_acronyms(doc)
    covered = {i for b in bodies for i in range(b.start, b.end)}
    acronyms = {b.acronym for b in bodies}
    inside = quoted_mask(doc)
    for start, end, label, _ in ents_of(doc):
        if doc[start].lower_ == "the":
            start += 1
        if label != "ORG" or inside[start] or start in covered:
            continue
        if doc[start:end].text in acronyms:
            continue  # a later use of a defined acronym, not a body of its own
        end = _extended(doc, end)
        name_end, acronym = end, _acronym_after(doc, end)
        # the tagger sometimes takes the opening of "(ACRONYM)" into the name
        for i in range(start, end):
            if doc[i].text == "(":
                name_end = i
                acronym = acronym or _acronym_at(doc, i + 1)
                break
        name = doc[start:name_end].text.strip()
        if name:
            bodies.append(Body(name, start, name_end, acronym, _is_subject(doc, start, end)))
    return sorted(bodies, key=lambda b: b.start)


def defined_acronyms(doc: Doc) -> list[Body]:
    """Names followed by their acronym in parentheses, whatever the tagger made of them: the
    run of capitalised words (joined by "and", "of", "for", "&" or commas) before "(XYZ)",
    when the acronym's letters are initials of the run's words in order."""
    bodies = []
    for token in doc[2:-1]:
        i = token.i
        if not (token.is_upper and doc[i - 1].text == "(" and doc[i + 1].text == ")"):
            continue
        if not is_acronym(token.text):
            continue
        start = end = i - 1
        while start > 0:
            previous = doc[start - 1]
            if previous.text[:1].isupper() and previous.pos_ in ("PROPN", "NOUN", "ADJ"):
                start -= 1
            elif previous.lower_ in _CONNECTIVES or previous.text == ",":
                if start - 2 >= 0 and doc[start - 2].text[:1].isupper():
                    start -= 1
                else:
                    break
            else:
                break
        words = [t.text for t in doc[start:end] if t.text[:1].isupper()]
        if start < end and _abbreviates(token.text, words):
            bodies.append(Body(doc[start:end].text, start, end, token.text, True))
    return bodies


def _abbreviates(acronym: str, words: list[str]) -> bool:
    """Whether the acronym's letters are the initials of ``words`` (some may be skipped),
    starting with the first word's."""
    letters = [c for c in acronym.upper() if c.isalpha()]
    initials = [w[0].upper() for w in words]
    if not letters or not initials or letters[0] != initials[0]:
        return False
    k = 0
    for initial in initials:
        if k < len(letters) and initial == letters[k]:
            k += 1
    return k == len(letters)


def _is_subject(doc: Doc, start: int, end: int) -> bool:
    return any(t.dep_ in ("nsubj", "nsubjpass", "poss") for t in doc[start:end])


def _extended(doc: Doc, end: int) -> int:
    """``end`` moved past "and Exporters Association", "of Red Cross": a connective followed
    by capitalised words, ending in a capitalised word."""
    while end + 1 < len(doc) and doc[end].lower_ in _CONNECTIVES:
        j = end + 1
        while j < len(doc) and doc[j].text[:1].isupper() and doc[j].pos_ in ("PROPN", "NOUN"):
            j += 1
        if j == end + 1:
            break
        end = j
    return end


def _acronym_after(doc: Doc, end: int) -> str | None:
    if end < len(doc) and doc[end].text == "(":
        return _acronym_at(doc, end + 1)
    return None


def _acronym_at(doc: Doc, i: int) -> str | None:
    if i < len(doc) and is_acronym(doc[i].text):
        return doc[i].text
    return None


def is_acronym(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return 2 <= len(letters) <= _MAX_ACRONYM and all(c.isupper() for c in letters)


class Bodies:
    """Resolves mentions of organisations within one article."""

    def __init__(self, doc: Doc) -> None:
        self.doc = doc
        self.known = find_bodies(doc)

    def by_name(self, text: str, token: Token, *, single_word: bool) -> Body | None:
        """The body that ``text`` names in full, as its acronym, or as a short form (its
        leading words; a single word only when ``single_word``, that is when the tagger
        itself calls the mention an organisation)."""
        words = [w.strip("'’s").lower() for w in text.split()]
        if not words:
            return None
        candidates = self._before(token)
        for body in reversed(candidates):
            if body.words == words or (body.acronym is not None and text == body.acronym):
                return body
        if len(words) >= 2 or single_word:
            fits = {
                body.name
                for body in candidates
                if len(body.words) > len(words) and body.words[: len(words)] == words
            }
            if len(fits) == 1:
                return next(b for b in reversed(candidates) if b.name in fits)
        if is_acronym(text):  # defined later in the article, or initials of a full name
            fits = {b.name for b in self.known if b.acronym == text or _initials(b) == text}
            if len(fits) == 1:
                return next(b for b in self.known if b.name in fits)
        return None

    def by_description(self, head: Token, *, definite: bool) -> Body | None:
        """The body a description headed by ``head`` refers to, if any: one whose own name
        ends in the noun ("police", "the department"), else, for a definite description, the
        latest business ("the company") or the one later body of that kind."""
        noun = head.lemma_.lower()
        before = self._before(head)
        own = [b for b in before if noun in b.words]
        if own:
            return own[-1]
        if not definite:
            return None
        if company_noun(noun):
            # the business named as a subject or possessor that the article names most often
            # (the latest of those): what the article is about, not a product or a rival
            companies = [b for b in before if not b.is_institution]
            companies = [b for b in companies if b.subject] or companies
            if companies:
                return max(reversed(companies), key=self._mentions)
        later = {b.name for b in self.known if b.start > head.i and noun in b.words}
        if len(later) == 1:
            return next(b for b in self.known if b.name in later)
        return None

    def _mentions(self, body: Body) -> int:
        """How often the article names the body (by the first word of its name)."""
        first = body.words[0]
        return sum(1 for t in self.doc if t.lower_ == first)

    def covering(self, token: Token) -> Body | None:
        """The body whose full name ``token`` is part of."""
        return next((b for b in self.known if b.start <= token.i < b.end), None)

    def _before(self, token: Token) -> list[Body]:
        return [b for b in self.known if b.start < token.i]


def _initials(body: Body) -> str:
    return "".join(w[0] for w in body.name.split() if w[:1].isupper())
