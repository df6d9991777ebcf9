"""Speaker resolution within one article.

A speaker mention (the subject of a reporting verb, the object of "according to") becomes a
canonical speaker: titles and roles stripped ("US President Donald Trump" → "Donald Trump"), a
bare surname or a spelling variant mapped to the full name given earlier ("Araghçi" → "Abbas
Araghchi"), a pronoun to the most recent person who spoke or was named before it, and NER
mislabels repaired where the mention matches a person already named.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from streams.ids import speaker_id
from streams.nlp.bodies import COMPANY_NOUNS, INSTITUTION_NOUNS, Bodies, is_acronym
from streams.nlp.cues import quoted_mask
from streams.nlp.doccache import sentence_of
from streams.nlp.gender import Gender, is_given_name, name_gender, noun_gender, pronoun_gender
from streams.nlp.lexicon import verb_class
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
    gender: Gender | None = None

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
        # where each name of two words or more is written, for "the last full mention"
        self._full_mentions = [
            (start, words)
            for start, words in ((e.start_char, name_words(e.text)) for e in self._ents)
            if len(words) >= 2
        ]
        self.bodies = Bodies(self.doc)
        # surnames the tagger labels PERSON somewhere in the article: another mention of the
        # same name that it labels ORG or GPE is the same person (a tagging slip)
        self._person_words = {
            name_words(ent.text)[-1]
            for ent in self.doc.ents
            if ent.label_ == "PERSON" and name_words(ent.text)
        }
        for ent in self._ents:
            name = person_name(_clean(ent.text))
            if len(name.split()) >= 2 and name[0].isupper() and self._personal(ent, name):
                self._add_person(name, ent.start_char, roles_of(ent))
        for name, start in _untagged_names(self.doc):
            if self._known_person(name) is None:
                self._add_person(name, start)
        # a person's name or surname that the tagger took for an organisation
        self.bodies.known = [b for b in self.bodies.known if self._known_person(b.name) is None]

    def _personal(self, ent: Span, name: str) -> bool:
        """Whether an entity names a person: the tagger says so, or (a slip it often makes
        with foreign names) an ORG whose first word is a given name and whose
        last is no institution's noun, or whose surname it tags PERSON elsewhere."""
        if ent.label_ == "PERSON":
            return True
        if ent.label_ != "ORG" or not 2 <= len(name.split()) <= 4:
            return False
        words = name.split()
        if any(w.lower() in INSTITUTION_NOUNS or w.lower() in COMPANY_NOUNS for w in words):
            return False
        return is_given_name(words[0]) or name_words(name)[-1] in self._person_words

    def _add_person(self, name: str, start: int, roles: frozenset[str] = frozenset()) -> Person:
        gender = name_gender(name_words(name)[0]) if name_words(name) else None
        for role in roles:
            gender = gender or noun_gender(role)
        person = Person(name, start, roles, gender)
        self.persons.append(person)
        return person

    def resolve(self, head: Token, *, proper: bool = False) -> Speaker | None:
        """The canonical speaker for a mention headed by ``head``, or None if unresolvable.

        ``proper`` says the layout marks the mention as a name (a signature, a transcript
        turn) whatever the tagger thought of it.
        """
        if head.lower_ in _PERSON_PRONOUNS:
            speaker = self._antecedent(head)
        elif head.lower_ in ("they", "it"):
            speaker = self._collective_antecedent(head)
        else:
            speaker = self._nominal(head, proper)
        if speaker is not None:
            self._spoken.append((head.idx, speaker))
        return speaker

    def _antecedent(self, head: Token) -> Speaker | None:
        """The person "he" or "she" refers to: the subject of this or the previous sentence,
        else the latest person who spoke, else the latest named; never one whose gender is
        known to differ from the pronoun's."""
        gender = pronoun_gender(head.lower_)

        def fits(person: Person | None) -> bool:
            return person is not None and (person.gender is None or person.gender == gender)

        found = self._recent_subject(head, fits)
        if found is None:
            for _, earlier in reversed(self._spoken):
                if earlier.type == "person" and earlier.start < head.idx:
                    person = self._known_person(earlier.name) or Person(earlier.name, 0)
                    if fits(person):
                        found = person
                        break
        if found is None:
            found = next(
                (p for p in reversed(self.persons) if p.start < head.idx and fits(p)), None
            )
        if found is None:
            return None
        return _speaker(found.name, "person", head.text, head.idx, head.idx + len(head))

    def _collective_antecedent(self, head: Token) -> Speaker | None:
        """What "they" or "it" stands for as a speaker: the latest group, organisation or place
        that spoke (or, for "they", a plural noun that was a subject) in this or the previous
        sentence. None when nothing fits: the statement is then not reported."""
        sentence = sentence_of(head)
        previous_start = (
            sentence_of(self.doc[sentence.start - 1]).start if sentence.start > 0 else 0
        )
        window_start = self.doc[previous_start].idx
        kinds = ("group", "org") if head.lower_ == "they" else ("org", "place")
        for offset, earlier in reversed(self._spoken):
            if window_start <= offset < head.idx and earlier.type in kinds:
                return _speaker(
                    earlier.name, earlier.type, head.text, head.idx, head.idx + len(head)
                )
        plural = head.lower_ == "they"
        for token in reversed(self.doc[previous_start : head.i]):
            if token.dep_ != "nsubj" or token.pos_ not in ("NOUN", "PROPN") or token.ent_type_:
                continue
            if (token.tag_ in ("NNS", "NNPS")) == plural:
                # "Dock owners met. They said …"; "The city sent a letter. It says …"
                name = group_name(mention_span(token))
                kind: SpeakerType = "group" if plural else "unknown"
                return _speaker(name, kind, head.text, head.idx, head.idx + len(head))
        return None

    def _recent_subject(self, head: Token, fits: Callable[[Person | None], bool]) -> Person | None:
        """The person named as a subject (or in apposition to one: "Ghana's trade minister,
        Abena Owusu-Ansah, said") in this sentence before the pronoun, else in the previous
        sentence: the preferred antecedent (centering theory's backward-looking center is
        usually the previous utterance's subject)."""
        sentence = sentence_of(head)
        previous_start = (
            sentence_of(self.doc[sentence.start - 1]).start if sentence.start > 0 else 0
        )
        for ent in reversed(self._ents):
            if ent.end > head.i or ent.start < previous_start:
                continue
            root = ent.root
            subject = root.dep_ in ("nsubj", "nsubjpass") or (
                root.dep_ == "appos" and root.head.dep_ in ("nsubj", "nsubjpass")
            )
            if subject:
                person = self._known_person(person_name(_clean(ent.text)))
                if fits(person):
                    return person
        return None

    def _nominal(self, head: Token, proper: bool = False) -> Speaker | None:
        named = _appositive_name(head)
        if named is not None:  # "the club's owner, Peter Novak, said"
            head = named
        span = mention_span(head)
        ent = next((e for e in self._ents if e.start <= head.i < e.end), None)
        start, end = span.start_char, span.end_char
        if head.pos_ == "PROPN" or proper or (head.is_upper and is_acronym(head.text)):
            # a layout's name (a signature, a transcript turn) is the name it marks, whatever
            # entity the tagger ran it into
            source = span.text if proper or ent is None else ent.text
            text = _clean(
                source if ent is not None or proper else _proper_run(head, span),
                keep_case=not proper,
            )
            body = self.bodies.covering(head)
            person = None if body else self._known_person(person_name(text), mention=head)
            if person is not None:
                return _speaker(person.name, "person", span.text, start, end)
            body = body or self.bodies.by_name(
                text, head, single_word=ent is not None and ent.label_ == "ORG"
            )
            if body is not None:
                return _speaker(body.name, "org", span.text, start, end)
            label = ent.label_ if ent is not None else ""
            kind: SpeakerType = _LABEL_TYPES.get(
                label, "person" if len(text.split()) >= 2 else "unknown"
            )
            words = name_words(text)
            if kind != "person" and 2 <= len(words) <= 4 and words[-1] in self._person_words:
                kind = "person"
            if kind == "person":
                text = person_name(text)
            if kind == "person" and len(name_words(text)) >= 2:
                self._add_person(text, start)
            return _speaker(text, kind, span.text, start, end)
        if head.pos_ == "NOUN":
            person = self._by_role(head)
            if person is not None:  # "the minister", "the Ukrainian president"
                return _speaker(person.name, "person", span.text, start, end)
            body = self.bodies.by_description(head, definite=_definite(head))
            if body is not None:  # "the department", "the company", "their union", "police"
                return _speaker(body.name, "org", span.text, start, end)
            name = group_name(span)
            kind = (
                "org"
                if head.lemma_.lower() in _INSTITUTION_NOUNS
                else ("group" if head.tag_ == "NNS" else "unknown")
            )
            return _speaker(name, kind, span.text, start, end)
        return None

    def _by_role(self, head: Token) -> Person | None:
        """The latest person introduced with this role, for a definite role noun phrase."""
        if not _definite(head) or head.tag_ == "NNS":
            return None
        role = head.lemma_.lower()
        if role in INSTITUTION_NOUNS or role in COMPANY_NOUNS:
            return None  # "the network", "the party": a body, never a person's role
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

    def _known_person(self, text: str, mention: Token | None = None) -> Person | None:
        """The person named earlier whose full name or surname ``text`` is a variant of.

        A bare surname that two people share (relatives, namesakes) goes, for a ``mention``
        in the text, to the one its sentence's pronouns fit ("Clinton … added that she would
        …"), else to the one named in full most recently before it: the context a reader goes
        by.
        """
        words = name_words(text)
        if not words:
            return None
        latest_first = list(reversed(self.persons))
        if len(words) >= 2:
            return next((p for p in latest_first if same_person(words, name_words(p.name))), None)
        if mention is not None:
            genders = {
                g
                for t in sentence_of(mention)
                if t.i > mention.i and (g := pronoun_gender(t.lower_))
            }
            if len(genders) == 1:
                latest_first = [p for p in latest_first if p.gender in (None, *genders)]
            described = self._described_just_before(mention)
            if described is not None:
                # "The 19-year-old striker was more modest. “…,” said Vermeulen": not the
                # Vermeulen known by another role
                named = [
                    p
                    for p in latest_first
                    if by_bare_name(words[0], [(p.name, name_words(p.name))])
                ]
                other_role = [p for p in named if p.roles and described not in p.roles]
                if len(other_role) < len(named):
                    latest_first = [p for p in latest_first if p not in other_role]
            latest_first.sort(key=lambda p: self._last_full_mention(p, mention.idx), reverse=True)
        name = by_bare_name(
            words[0],
            ((p.name, name_words(p.name)) for p in latest_first),
            first_of_several=mention is not None,
        )
        return next((p for p in latest_first if p.name == name), None) if name else None

    def _described_just_before(self, mention: Token) -> str | None:
        """The head noun of a definite description that is the subject of the sentence before
        the mention's ("The 19-year-old striker was …"), when it names a role, not a body."""
        inside = quoted_mask(self.doc)
        sentence = sentence_of(mention)
        for _ in range(3):  # back to the last sentence outside the quotation
            if sentence.start == 0 or "\n" in self.doc[sentence.start - 1].text:
                return None  # the paragraph's start
            sentence = sentence_of(self.doc[sentence.start - 1])
            if all(inside[t.i] or t.is_punct for t in sentence):
                continue
            for token in sentence:
                if token.dep_ != "nsubj" or token.head.dep_ != "ROOT":
                    continue  # the sentence's own subject, not one of a clause inside it
                if token.pos_ == "NOUN" and token.tag_ == "NN":
                    noun = token.lemma_.lower()
                    definite = any(c.lower_ == "the" for c in token.children)
                    if definite and noun not in INSTITUTION_NOUNS and noun not in COMPANY_NOUNS:
                        return noun
            return None
        return None

    def _last_full_mention(self, person: Person, before: int) -> int:
        words = name_words(person.name)
        return max(
            (
                start
                for start, mention in self._full_mentions
                if start < before and same_person(mention, words)
            ),
            default=person.start if person.start < before else -1,
        )


def _untagged_names(doc: Doc) -> list[tuple[str, int]]:
    """Person names the tagger left untagged ("Nigeria striker Emeka Okonkwo joined"): two
    or three capitalised proper nouns, the last heading the others, the first a given name,
    none an institution's noun, in no entity of another kind."""
    names = []
    for token in doc:
        if token.pos_ != "PROPN" or token.dep_ == "compound" or token.ent_type_:
            continue
        run = [token]
        for left in reversed(list(token.lefts)):
            if left.dep_ == "compound" and left.pos_ == "PROPN" and left.i == run[0].i - 1:
                run.insert(0, left)
        words = [t.text for t in run]
        if not 2 <= len(run) <= 3 or any(t.ent_type_ and t.ent_type_ != "PERSON" for t in run):
            continue
        if not all(w.isalpha() and w[:1].isupper() and not w.isupper() for w in words):
            continue
        if any(w.lower() in INSTITUTION_NOUNS or w.lower() in COMPANY_NOUNS for w in words):
            continue
        if name_gender(words[0]) is not None:
            names.append((" ".join(words), run[0].idx))
    return names


def _definite(head: Token) -> bool:
    return any(
        c.dep_ in ("det", "poss") and c.lower_ not in ("a", "an", "another", "some", "any")
        for c in head.children
    )


def person_name(text: str) -> str:
    """A person's canonical name from a mention: no leading lower-case role words, no
    possessor ("Ethiopia's Tigist Alemu"), no titles ("farmer Ana Ruiz" → "Ana Ruiz"), no
    headline verb the tagger took in ("Obama Says")."""
    words = text.split()
    while len(words) > 2 and (not words[0][:1].isupper() or words[0].endswith(("'s", "’s"))):
        words = words[1:]
    cut = next((i for i, word in enumerate(words) if i and _headline_verb(word)), len(words))
    words = words[:cut]  # "Lopez Says Bridge Will Reopen" → "Lopez"
    return strip_titles(" ".join(words))


def _headline_verb(word: str) -> bool:
    lower = word.lower()
    return lower in ("said", "told") or (
        lower.endswith("s") and verb_class(lower[:-1]) is not None and word[:1].isupper()
    )


def group_name(span: Span) -> str:
    """A group or anonymous source by its head phrase, without numbers ("two people familiar
    with the talks" → "people familiar with the talks")."""
    words = [t for t in span if not (t.like_num and t.i < span.root.i)]
    return _clean(span.doc[words[0].i : words[-1].i + 1].text) if words else _clean(span.text)


def _proper_run(head: Token, span: Span) -> str:
    """The run of capitalised words around a proper noun that no entity covers ("polling firm
    Pulso Ciudadano" → "Pulso Ciudadano"); the mention when the head is not capitalised."""
    doc = head.doc
    if not head.text[:1].isupper():
        return span.text
    start = head.i
    while start > 0 and doc[start - 1].pos_ == "PROPN" and doc[start - 1].text[:1].isupper():
        start -= 1
    end = head.i + 1
    while end < len(doc) and doc[end].pos_ == "PROPN" and doc[end].text[:1].isupper():
        end += 1
    return doc[start:end].text


def roles_of(ent: Span) -> frozenset[str]:
    """Role words a person is introduced with: the title or role before the name ("Foreign
    Minister Lena Okafor", "coach Sofie Claes"), an apposition on either side ("Lena Okafor,
    the foreign minister, …"; "Her coach, Dawit Tesfaye, …"), and the verb of a relative
    clause that names the role's activity ("Dirk Vermeulen, who has coached the side …")."""
    doc = ent.doc
    words: set[str] = set()
    i = ent.start - 1
    while i >= 0 and doc[i].pos_ in ("PROPN", "NOUN", "ADJ") and doc[i].ent_type_ != "PERSON":
        words.add(doc[i].lemma_.lower())
        i -= 1
    root = ent.root
    appositions = [
        c
        for c in root.children
        if c.dep_ == "appos" and c.pos_ == "NOUN" and c.left_edge.i <= ent.end + 1
    ]
    if root.dep_ == "appos" and root.head.pos_ == "NOUN" and root.head.i < ent.start:
        appositions.append(root.head)  # the name stands in apposition to the role before it
    for role in appositions:
        words.add(role.lemma_.lower())
        words.update(c.lemma_.lower() for c in role.children if c.dep_ in ("amod", "compound"))
    for child in root.children:
        if child.dep_ == "relcl" and child.pos_ == "VERB":
            words.add(child.lemma_.lower())
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
            if child.dep_ not in ("amod", "prep") or child.i != right + 1 or _temporal(child):
                break
            right = child.right_edge.i
    while right > head.i and (doc[right].dep_ == "cc" or doc[right].is_punct):
        right -= 1  # "the former secretary of state and …"
    return doc[left : right + 1]


def _temporal(phrase: Token) -> bool:
    """ "on Monday", "last week": a time phrase, never part of a speaker's mention."""
    return any(t.ent_type_ in ("DATE", "TIME") for t in phrase.subtree)


def _clean(name: str, *, keep_case: bool = True) -> str:
    name = " ".join(name.split())
    for article in ("the ", "The "):
        if name.startswith(article) and len(name) > len(article):
            name = name[len(article) :]  # "the foreign ministry" → "foreign ministry"
    if not keep_case and name.isupper() and len(name) > 3:
        name = name.title()  # transcripts print speakers in capitals: "PENCE"
    for suffix in ("’s", "'s"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name.strip(" ,.;:")


def _speaker(name: str, kind: SpeakerType, mention: str, start: int, end: int) -> Speaker:
    return Speaker(
        id=speaker_id(kind, name), name=name, type=kind, mention=mention, start=start, end=end
    )
