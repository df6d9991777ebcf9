"""Stance: the speaker's position toward the things a statement names.

For every target in the statement's content (named entities and noun phrases such as
"nuclear negotiations" or "the ceasefire", pronouns and dates left out), the evidence is read
along the dependency path from the target up to the top of the content, in the statement's own
words:

- **stance predicates** on that path: verbs and adjectives that take a side toward their
  object or complement ("accept", "welcome", "ready to", "willing to" are for it; "reject",
  "condemn", "rule out", "refuse to", "opposed to" are against it);
- **the cue**: a reporting verb that itself takes a side ("X rejected …", "X welcomed …")
  applies to what it reports;
- **negation** on the path flips the sign ("will not accept dictation");
- **evaluative words scoped to the target**: VADER's valence of the adjectives modifying the
  target and of the predicate said of it ("the plan is dangerous").

The sum gives a score in [-1, 1]: favor at 0.25 or more, against at -0.25 or less, neutral
between. A statement with no evidence toward anything reports its named entities as neutral.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from streams.nlp.doccache import chunks_of, ents_of
from streams.nlp.lexicon import verb_class
from streams.nlp.names import name_words
from streams.records import Polarity, Stance

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span, Token

FAVOR = frozenset({
    "accept", "support", "welcome", "back", "endorse", "favor", "favour", "praise", "hail",
    "applaud", "commend", "approve", "embrace", "want", "seek", "pursue", "defend", "join",
    "sign", "ratify", "celebrate", "thank", "trust", "like", "love", "admire", "promote",
    "protect", "restore", "resume", "engage", "participate", "agree", "continue", "expand",
    "strengthen", "facilitate", "honour", "honor", "respect", "uphold", "implement",
    "ready", "willing", "prepared", "open", "committed", "eager",
    "keen", "happy", "pleased", "glad", "supportive", "confident", "proud", "hopeful",
})  # fmt: skip
AGAINST = frozenset({
    "reject", "oppose", "condemn", "denounce", "refuse", "deny", "criticize", "criticise",
    "attack", "blast", "slam", "block", "ban", "end", "stop", "halt", "resist", "fight",
    "veto", "boycott", "suspend", "cancel", "withdraw", "abandon", "dismiss", "accuse",
    "blame", "threaten", "decry", "protest", "fear", "doubt", "question", "scrap", "sanction",
    "punish", "warn", "mock", "ridicule", "avoid", "unwilling", "reluctant", "opposed", "wary",
    "skeptical", "sceptical", "hostile", "against", "concerned", "worried", "afraid",
    # diminishers: to ease or cut something is to be against more of it
    "ease", "reduce", "cut", "curb", "limit", "lower", "lift", "eliminate", "remove",
    # undoing: to tear up, repeal or weaken something is to be against it
    "tear", "revoke", "repeal", "overturn", "reverse", "undo", "dismantle", "weaken",
    "undermine",
})  # fmt: skip
_CUE_SIGN = {
    "reject": -1.0,
    "deny": -1.0,
    "criticize": -1.0,
    "accept": 1.0,
    "praise": 1.0,
    "urge": 1.0,  # "urged the council to commission a study": for the study
}
#: cues whose content is what the speaker denies: evidence inside it takes the other side
_NEGATING_CLASSES = frozenset({"reject", "deny", "criticize"})
_CLEAR_VALENCE = 0.4
#: head nouns too abstract to be what a reader would call the issue
_ABSTRACT = frozenset({
    "circumstance", "time", "way", "thing", "moment", "round", "fact", "lot", "kind", "sort",
    "part", "order", "term", "end", "day", "week", "month", "year", "something", "anything",
    "everything", "nothing", "one", "other", "others", "number", "side", "sides",
})  # fmt: skip
_SKIP_ENTS = frozenset({"DATE", "TIME", "CARDINAL", "ORDINAL", "PERCENT", "MONEY", "QUANTITY"})
_NOT_TARGET_DEPS = frozenset({"det", "poss", "predet", "case"})
_QUOTE_MARKS = str.maketrans("", "", '“”"«»„')
_THRESHOLD = 0.25
_MAX_TARGETS = 4


@cache
def vader_lexicon() -> dict[str, float]:
    """VADER's valence per word (-4 … 4), read from the file the vaderSentiment package ships."""
    text = resources.files("vaderSentiment").joinpath("vader_lexicon.txt").read_text("utf-8")
    lexicon: dict[str, float] = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) >= 2:
            try:
                lexicon[parts[0]] = float(parts[1])
            except ValueError:
                continue
    return lexicon


def stances_for(
    doc: Doc,
    start: int,
    end: int,
    cue_lemma: str = "",
    *,
    about: tuple[int, int] | None = None,
    speaker: str = "",
) -> tuple[Stance, ...]:
    """Stances taken in ``doc.text[start:end]``, reported with a cue of lemma ``cue_lemma``.

    ``about`` is the cue's object when the content is a quotation that evaluates it ("called
    the offer “an insult”": the offer); ``speaker`` is the speaker's name, whose own words
    are never a target of their stance.
    """
    span = doc.char_span(start, end, alignment_mode="expand")
    if span is None or len(span) == 0:
        return ()
    cls = verb_class(cue_lemma) or "" if cue_lemma else ""
    cue_sign = _CUE_SIGN.get(cls, 0.0)
    own = set(name_words(speaker)) if speaker else set()
    scored: dict[str, float] = {}

    def score(target: str, value: float) -> None:
        if target not in scored or abs(value) > abs(scored[target]):
            scored[target] = value

    if about is not None:
        # a quoted evaluation: the cue's side (if it takes one) or the quote's valence goes
        # to what is evaluated; inside the quote only its own evidence counts
        evaluated = doc.char_span(*about, alignment_mode="expand")
        side = cue_sign if cls in _NEGATING_CLASSES or cls in ("accept", "praise") else 0.0
        if evaluated is not None:
            for target, _ in _targets(evaluated, whole=True)[:1]:
                score(target, side or _valence(span.text))
        cue_sign = 0.0
    addressee = _addressee(span) if cls == "urge" else None
    for target, head in _targets(span):
        if own and set(name_words(target)) <= own:
            continue  # a minister is not "against" his own name
        if addressee is not None and head.i == addressee.i:
            continue  # "urged Togo and Benin to join …": the addressees take no side
        value = _evidence(head, span)
        if value == 0.0:
            value = cue_sign
        elif cls in _NEGATING_CLASSES:
            value = -value  # "denied that it would accept the deal"
        score(target, value)
    stances = [
        Stance(target=t, polarity=_polarity(v), score=round(max(-1.0, min(1.0, v)), 3))
        for t, v in scored.items()
    ]
    taking = [s for s in stances if s.polarity != "neutral"]
    chosen = taking or [s for s in stances if s.target[:1].isupper()]
    return tuple(chosen[:_MAX_TARGETS])


def _addressee(span: Span) -> Token | None:
    """The addressee of a directive's content ("all three governments to avoid …")."""
    for token in span:
        if token.pos_ in ("NOUN", "PROPN", "PRON"):
            return token.head if token.dep_ in ("compound", "amod") else token
        if token.pos_ not in ("DET", "ADJ", "NUM"):
            return None
    return None


def _valence(text: str) -> float:
    """VADER's compound valence of ``text`` where it is clear (|compound| ≥ 0.4), else 0."""
    compound = float(_analyzer().polarity_scores(text)["compound"])
    return compound if abs(compound) >= _CLEAR_VALENCE else 0.0


@cache
def _analyzer() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def _polarity(score: float) -> Polarity:
    value = max(-1.0, min(1.0, score))
    if value >= _THRESHOLD:
        return "favor"
    if value <= -_THRESHOLD:
        return "against"
    return "neutral"


def _targets(span: Span, *, whole: bool = False) -> list[tuple[str, Token]]:
    """(target text, head token) for the entities and noun phrases inside ``span``; with
    ``whole``, the span itself (an object noun phrase) comes first."""
    doc = span.doc
    out: list[tuple[str, Token]] = []
    if whole:
        words = [t for t in span if t.dep_ not in ("det", "predet") and not t.is_punct]
        if words:
            out.append((_clean_target(doc[words[0].i : words[-1].i + 1].text), span.root))
    seen: set[int] = set()
    for start, end, label, root_i in ents_of(doc):
        if start < span.start or end > span.end:
            continue
        seen.update(range(start, end))
        root = doc[root_i]
        if label in _SKIP_ENTS or (label == "NORP" and root.pos_ == "ADJ"):
            continue  # "Iranian leaders" is about the leaders
        out.append((_clean_target(doc[start:end].text), root))
    for start, end, root_i in chunks_of(doc):
        if start < span.start or end > span.end:
            continue
        root = doc[root_i]
        if root.i in seen or root.pos_ not in ("NOUN", "PROPN") or root.ent_type_ in _SKIP_ENTS:
            continue
        if root.lemma_.lower() in _ABSTRACT and not any(
            c.dep_ in ("compound", "amod", "nmod") for c in root.children
        ):
            continue  # "under any circumstances", "this time"; not "waiting times"
        words = [t for t in doc[start:end] if t.dep_ not in _NOT_TARGET_DEPS and not t.is_punct]
        if words:
            text = _clean_target(doc[words[0].i : words[-1].i + 1].text)
            if text:
                out.append((text, root))
    return out


def _clean_target(text: str) -> str:
    """A target's words without quotation marks (a quoted fragment inside a noun phrase)."""
    return " ".join(text.translate(_QUOTE_MARKS).split())


def _evidence(head: Token, span: Span) -> float:
    """Signed evidence (-1 … 1, roughly) toward the target headed by ``head``.

    Stance composes bottom-up along the path from the target: the first stance predicate
    sets the sign (for or against its argument); a later one in favour keeps it ("ready to
    end the blockade" is against the blockade) and one against reverses it ("refused to end
    the blockade" is for it); a negated predicate flips what was composed below it.
    """
    lexicon = vader_lexicon()
    value = 0.0
    for child in head.children:
        if child.dep_ == "amod":
            value += lexicon.get(child.lower_, 0.0) / 4
    token = head
    if head.dep_ == "nsubj" and span.start <= head.head.i < span.end:
        verb = head.head
        for sibling in verb.children:
            # "the plan is dangerous" evaluates the plan; "Iran is ready to …" does not
            word = sibling.lemma_.lower()
            if sibling.dep_ in ("acomp", "attr") and word not in FAVOR and word not in AGAINST:
                value += lexicon.get(sibling.lower_, 0.0) / 4
        if value == 0.0:
            # what is said of the subject: "the dam was “a matter of survival”", "the
            # discharges had “created the conditions for a catastrophe”"
            value = _valence(_predicate(head, verb, span))
        # a stance predicate takes a side toward its object, not its subject: "the merger
        # would cut waiting times" is not against the merger
        token = verb
    while token.head.i != token.i and span.start <= token.head.i < span.end:
        token = token.head
        lemma = token.lemma_.lower()
        favor = lemma in FAVOR
        against = lemma in AGAINST or (
            lemma == "rule" and any(c.lower_ == "out" for c in token.children)
        )
        if favor and value == 0.0:
            value = 1.0
        elif against:
            value = -1.0 if value == 0.0 else -value
        if any(c.dep_ == "neg" for c in token.children):
            value = -value
    return value


def _predicate(subject: Token, verb: Token, span: Span) -> str:
    """The words of the subject's clause outside the subject, inside the statement."""
    inside = {t.i for t in subject.subtree}
    words = [t.text for t in verb.subtree if t.i not in inside and span.start <= t.i < span.end]
    return " ".join(words)
