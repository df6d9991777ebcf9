"""Speaker resolution within one article.

A speaker mention (the subject of a reporting verb, the object of "according to") becomes a
canonical speaker: titles and roles stripped ("US President Donald Trump" → "Donald Trump"), a
bare surname or a spelling variant mapped to the full name given earlier ("Araghçi" → "Abbas
Araghchi"), a pronoun to the most recent person who spoke or was named before it, and NER
mislabels repaired where the mention matches a person already named.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from streams.ids import speaker_id
from streams.nlp.doccache import sentence_of
from streams.nlp.names import TITLES, by_bare_name, name_words, same_person, strip_titles
from streams.records import Speaker, SpeakerType

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span, Token

_LABEL_TYPES: dict[str, SpeakerType] = {
    "PERSON": "person",
    "ORG": "org",
    "NORP": "group",
    "GPE": "place",
    "LOC": "place",
    "FAC": "place",
}
_PERSON_PRONOUNS = frozenset({"he", "she"})
PRONOUNS = _PERSON_PRONOUNS | {"i", "we", "you", "it", "they", "me", "us", "them", "him", "her"}
# Head nouns of common-noun speakers: the kind of speaker they name. General English
# vocabulary (institutions and roles), not names of anyone.
_INSTITUTION_NOUNS = frozenset(
    {
        "agency",
        "army",
        "authority",
        "bank",
        "board",
        "cabinet",
        "campaign",
        "committee",
        "company",
        "council",
        "court",
        "department",
        "embassy",
        "firm",
        "government",
        "group",
        "institute",
        "lab",
        "military",
        "ministry",
        "office",
        "palace",
        "parliament",
        "party",
        "police",
        "presidency",
        "regime",
        "secretariat",
        "service",
        "spokesperson",
        "team",
        "union",
        "university",
        "administration",
        "commission",
        "organization",
        "organisation",
        "newspaper",
        "network",
        "station",
        "channel",
        "outlet",
    }
)


@dataclass(frozen=True, slots=True)
class Person:
    """A person named in the article, by the longest form of the name seen."""

    name: str
    start: int
    roles: frozenset[str] = frozenset()

    @property
    def surname(self) -> str:
        return self.name.split()[-1]


@dataclass
class ArticleSpeakers:
    """Resolves speaker mentions of one ``Doc``; remembers who spoke, for pronouns."""

    doc: Doc
    persons: list[Person] = field(default_factory=list)
    _spoken: list[tuple[int, Speaker]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._ents = list(self.doc.ents)
        # surnames the tagger labels PERSON somewhere in the article: another mention of the
        # same name that it labels ORG or GPE is the same person (a tagging slip)
        self._person_words = {
            name_words(ent.text)[-1]
            for ent in self.doc.ents
            if ent.label_ == "PERSON" and name_words(ent.text)
        }
        for ent in self._ents:
            name = strip_titles(_clean(ent.text))
            if ent.label_ == "PERSON" and len(name.split()) >= 2 and name[0].isupper():
                self.persons.append(Person(name, ent.start_char, roles_of(ent)))

    def resolve(self, head: Token, *, proper: bool = False) -> Speaker | None:
        """The canonical speaker for a mention headed by ``head``, or None if unresolvable.

        ``proper`` says the layout marks the mention as a name (a signature, a transcript
        turn) whatever the tagger thought of it.
        """
        speaker = (
            self._antecedent(head)
            if head.lower_ in _PERSON_PRONOUNS
            else self._nominal(head, proper)
        )
        if speaker is not None:
            self._spoken.append((head.idx, speaker))
        return speaker

    def _antecedent(self, head: Token) -> Speaker | None:
        subject = self._recent_subject(head)
        if subject is not None:
            return _speaker(subject.name, "person", head.text, head.idx, head.idx + len(head))
        for _, earlier in reversed(self._spoken):
            if earlier.type == "person" and earlier.start < head.idx:
                return _speaker(earlier.name, "person", head.text, head.idx, head.idx + len(head))
        named = [p for p in self.persons if p.start < head.idx]
        if named:
            return _speaker(named[-1].name, "person", head.text, head.idx, head.idx + len(head))
        return None

    def _recent_subject(self, head: Token) -> Person | None:
        """The person named as a subject in this sentence before the pronoun, else in the
        previous sentence: the preferred antecedent (centering theory's backward-looking
        center is usually the previous utterance's subject)."""
        sentence = sentence_of(head)
        previous_start = (
            sentence_of(self.doc[sentence.start - 1]).start if sentence.start > 0 else 0
        )
        for ent in reversed(self._ents):
            if ent.end > head.i or ent.start < previous_start:
                continue
            if ent.label_ == "PERSON" and ent.root.dep_ in ("nsubj", "nsubjpass"):
                return self._known_person(strip_titles(_clean(ent.text)))
        return None

    def _nominal(self, head: Token, proper: bool = False) -> Speaker | None:
        named = _appositive_name(head)
        if named is not None:  # "the club's owner, Peter Novak, said"
            head = named
        span = mention_span(head)
        ent = next((e for e in self._ents if e.start <= head.i < e.end), None)
        start, end = span.start_char, span.end_char
        if head.pos_ == "PROPN" or proper:
            text = _clean(ent.text if ent is not None else span.text)
            person = self._known_person(strip_titles(text))
            if person is not None:
                return _speaker(person.name, "person", span.text, start, end)
            label = ent.label_ if ent is not None else ""
            kind: SpeakerType = _LABEL_TYPES.get(
                label, "person" if len(text.split()) >= 2 else "unknown"
            )
            words = name_words(text)
            if kind != "person" and 2 <= len(words) <= 4 and words[-1] in self._person_words:
                kind = "person"
            if kind == "person":
                text = strip_titles(text)
            if kind == "person" and len(words) >= 2:
                self.persons.append(Person(text, start))
            return _speaker(text, kind, span.text, start, end)
        if head.pos_ == "NOUN":
            person = self._by_role(head)
            if person is not None:  # "the minister", "the Ukrainian president"
                return _speaker(person.name, "person", span.text, start, end)
            name = _clean(span.text)
            kind = (
                "org"
                if head.lemma_.lower() in _INSTITUTION_NOUNS
                else ("group" if head.tag_ == "NNS" else "unknown")
            )
            return _speaker(name, kind, span.text, start, end)
        return None

    def _by_role(self, head: Token) -> Person | None:
        """The latest person introduced with this role, for a definite role noun phrase."""
        definite = any(
            c.dep_ in ("det", "poss") and c.lower_ != "a" and c.lower_ != "an"
            for c in head.children
        )
        if not definite or head.tag_ == "NNS":
            return None
        role = head.lemma_.lower()
        # modifiers must have been part of the introduction, except nationality adjectives
        # (NORP): "the Ukrainian president" for "President Volodymyr Zelensky"
        modifiers = {
            c.lemma_.lower()
            for c in head.children
            if c.dep_ in ("amod", "compound") and c.ent_type_ != "NORP"
        }
        for person in reversed([p for p in self.persons if p.start < head.idx]):
            if role in person.roles and modifiers <= person.roles:
                return person
        return None

    def _known_person(self, text: str) -> Person | None:
        """The person named earlier whose full name or surname ``text`` is a variant of."""
        words = name_words(text)
        if not words:
            return None
        latest_first = list(reversed(self.persons))
        if len(words) >= 2:
            return next((p for p in latest_first if same_person(words, name_words(p.name))), None)
        name = by_bare_name(words[0], ((p.name, name_words(p.name)) for p in latest_first))
        return next((p for p in latest_first if p.name == name), None) if name else None


def roles_of(ent: Span) -> frozenset[str]:
    """Role words a person is introduced with: the title before the name ("Foreign Minister
    Lena Okafor") and the head of an apposition ("Lena Okafor, the foreign minister")."""
    doc = ent.doc
    words: set[str] = set()
    i = ent.start - 1
    while i >= 0 and doc[i].pos_ in ("PROPN", "NOUN", "ADJ") and doc[i].ent_type_ != "PERSON":
        words.add(doc[i].lemma_.lower())
        i -= 1
    for child in ent.root.children:
        # an apposition right after the name ("Lena Okafor, the foreign minister, …")
        if child.dep_ == "appos" and child.pos_ == "NOUN" and child.left_edge.i <= ent.end + 1:
            words.add(child.lemma_.lower())
            words.update(c.lemma_.lower() for c in child.children if c.dep_ in ("amod", "compound"))
    words.update(
        w.lower().rstrip(".") for w in ent.text.split()[:-1] if w.lower().rstrip(".") in TITLES
    )
    return frozenset(words)


def _appositive_name(head: Token) -> Token | None:
    """A proper name in apposition to a common-noun subject, if there is one."""
    if head.pos_ != "NOUN":
        return None
    for child in head.children:
        if child.dep_ == "appos" and child.pos_ == "PROPN":
            return child
    return None


def mention_span(head: Token) -> Span:
    """The mention's words: the head and its left modifiers, without leading determiners;
    a common noun keeps its adjective and prepositional modifiers on the right too
    ("two people familiar with the discussions", "a senior official at the ministry")."""
    doc = head.doc
    left = head.left_edge.i
    while left < head.i and doc[left].dep_ in ("det", "punct", "predet"):
        left += 1
    right = head.i
    if head.pos_ == "NOUN":
        for child in head.rights:
            if child.dep_ not in ("amod", "prep") or child.i != right + 1:
                break
            right = child.right_edge.i
    return doc[left : right + 1]


def _clean(name: str) -> str:
    name = " ".join(name.split())
    for article in ("the ", "The "):
        if name.startswith(article) and len(name) > len(article):
            name = name[len(article) :]  # "the foreign ministry" → "foreign ministry"
    if name.isupper() and len(name) > 3:
        name = name.title()  # transcripts print speakers in capitals: "PENCE"
    for suffix in ("’s", "'s"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name.strip(" ,.;:")


def _speaker(name: str, kind: SpeakerType, mention: str, start: int, end: int) -> Speaker:
    return Speaker(
        id=speaker_id(kind, name), name=name, type=kind, mention=mention, start=start, end=end
    )
