"""Who said what: statements found in a parsed article.

The method is syntactic and lexical, over spaCy's dependency parse:

1. **Cues** and the mention of their speaker come from :mod:`.cues`; typographic
   attributions (signed quotations, transcript turns) from :mod:`.layout`.
2. The **speaker** mention is resolved by :class:`~.speakers.ArticleSpeakers`.
3. The **content** is the cue's clausal complement. When a quotation fills it, the statement is
   ``direct``; when the complement holds a quoted fragment, ``mixed``; else ``indirect``. A
   quotation in the cue's sentence with no complement of its own is direct speech of that cue.
4. A quotation left without a cue continues the nearest statement of its paragraph, else the
   last one of the previous paragraph (the convention for quotes running over sentences and
   paragraphs). Short quoted fragments that belong to no statement are not statements (scare
   quotes, titles of works).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from streams.ids import statement_id
from streams.nlp.cues import (
    SUBJECT_DEPS,
    adjacent_phrase,
    block_after,
    call_on,
    characterisation,
    charge,
    cue_label,
    find_cues,
    has_complement,
    object_content,
    quoted_evaluation,
    quoted_mask,
    quotes_of,
    speaker_head,
    topic,
)
from streams.nlp.doccache import sentence_of, text_of
from streams.nlp.layout import signed_quotes, transcript_turns
from streams.nlp.lexicon import MENTAL_STATES, NEEDS_COMPLEMENT, verb_class
from streams.nlp.quotes import Quote
from streams.nlp.speakers import ArticleSpeakers
from streams.nlp.stance import stances_for
from streams.records import Speaker, Statement, StatementKind

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span, Token

_WH_WORDS = frozenset({"WDT", "WP", "WP$", "WRB"})
_MIN_CONTINUATION_WORDS = 4
_DIRECT_COVERAGE = 0.85


@dataclass(frozen=True, slots=True)
class Found:
    """A statement before it becomes a record."""

    speaker: Speaker
    cue: str
    start: int
    end: int
    kind: StatementKind
    lemma: str = ""  # the cue's lemma, for stance
    about: tuple[int, int] | None = None  # what a quoted evaluation evaluates, for stance


def extract_statements(
    doc: Doc, article_id: str, speakers: ArticleSpeakers | None = None
) -> list[Statement]:
    """Every statement of ``doc``, in text order, with its resolved speaker."""
    speakers = speakers or ArticleSpeakers(doc)
    quotes = quotes_of(doc)
    used: set[Quote] = set()
    found: list[Found] = []
    for cue in find_cues(doc):
        head = speaker_head(cue)
        if head is None:
            continue
        speaker = speakers.resolve(head)
        if speaker is None:
            continue
        found.extend(replace(f, lemma=cue.lemma_) for f in _content(cue, speaker, quotes, used))
    found.extend(_typographic(doc, speakers, quotes, used))
    found.extend(_continuations(text_of(doc), quotes, used, found))
    return _records(doc, article_id, _without_embedded_evidence(found))


def _without_embedded_evidence(found: Sequence[Found]) -> list[Found]:
    """Drop reports whose source is a thing, not an agent, and stands inside another statement.

    In "the commissioner says an internal review shows no one leaked the files" or "the city
    attorney said the advertisement suggests …", the review and the advertisement are part of
    what the outer speaker claims, not sources the article cites: the article attributes that
    content to the outer speaker. So is a state of mind inside a statement ("she said she
    expected costs to fall"). People, organisations, places and groups named inside
    someone's statement ("Merrill says Machado promised …", "Xi said China welcomed …") are
    kept: the article reports their words or positions too.
    """
    return [
        f
        for f in found
        if (f.speaker.type != "unknown" and f.lemma not in MENTAL_STATES)
        or not any(other is not f and other.start <= f.speaker.start < other.end for other in found)
    ]


def _typographic(
    doc: Doc, speakers: ArticleSpeakers, quotes: Sequence[Quote], used: set[Quote]
) -> list[Found]:
    """Signed quotations and transcript turns (see :mod:`.layout`)."""
    found: list[Found] = []
    for quote, head in signed_quotes(doc, [q for q in quotes if q not in used]):
        speaker = speakers.resolve(head, proper=True)
        if speaker is not None:
            used.add(quote)
            found.append(_direct(speaker, "―", quote, text_of(doc)))
    for head, start, end in transcript_turns(doc):
        speaker = speakers.resolve(head, proper=True)
        if speaker is not None:
            used.update(q for q in quotes if start <= q.inner_start and q.inner_end <= end)
            found.append(Found(speaker, ":", start, end, "direct"))
    return found


def _content(
    cue: Token, speaker: Speaker, quotes: Sequence[Quote], used: set[Quote]
) -> list[Found]:
    sent = sentence_of(cue)
    cue_text = cue_label(cue)
    text = text_of(cue.doc)
    evaluation = quoted_evaluation(cue)
    if evaluation is not None and evaluation not in used:
        # "condemned the strike as “reckless”": one statement, the quotation its content
        used.add(evaluation)
        start, end = evaluation.trimmed(text)
        return [Found(speaker, cue_text, start, end, "mixed", about=_evaluated(cue, evaluation))]
    others = _other_reports(cue, sent)
    in_sentence = [
        q
        for q in quotes
        if q not in used
        and _overlaps(q, sent)
        and q.inner_end - q.inner_start > 1
        and not _is_title(q, text)
        and not any(a <= q.inner_start < b for a, b in others)
    ]
    complement = _complement(cue)
    if complement is not None and any(
        q.inner_start <= complement[0] and complement[1] <= q.inner_end for q in in_sentence
    ):
        # the parser hung a clause of the quotation on the cue ("“A. B,” she said" with B as
        # its complement): what the cue reports is the whole quotation
        complement = None
    if complement is None and has_complement(cue) and not in_sentence:
        return []
    if complement is not None:
        start, end = complement
        inner = [q for q in in_sentence if q.inner_start >= start - 2 and q.inner_end <= end + 2]
        covered = sum(q.inner_end - q.inner_start for q in inner)
        if inner and covered >= _DIRECT_COVERAGE * (end - start):
            used.update(inner)
            return [_direct(speaker, cue_text, q, text_of(cue.doc)) for q in inner]
        if inner:
            used.update(inner)
            return [Found(speaker, cue_text, start, end, "mixed")]
        outside = [q for q in in_sentence if not (q.inner_start >= start and q.inner_end <= end)]
        found = [Found(speaker, cue_text, start, end, "indirect")]
        if outside and _is_full_quote(outside[0], text_of(cue.doc)):
            used.update(outside)
            found += [_direct(speaker, cue_text, q, text_of(cue.doc)) for q in outside]
        return found
    if in_sentence:
        used.update(in_sentence)
        return [_direct(speaker, cue_text, q, text_of(cue.doc)) for q in in_sentence]
    block = block_after(cue)
    if block is not None:  # "The governor added:" and the quotation as a paragraph
        used.update(
            q for q in quotes if block[0] - 1 <= q.inner_start and q.inner_end <= block[1] + 1
        )
        return [Found(speaker, cue_text, *block, "direct")]
    clause = _that_clause_of_object(cue)
    if clause is not None:
        return [Found(speaker, cue_text, *clause, "indirect")]
    rest = _parenthetical_content(cue) if cue.lemma_ not in NEEDS_COMPLEMENT else None
    return [Found(speaker, cue_text, *rest, "indirect")] if rest else []


def _that_clause_of_object(cue: Token) -> tuple[int, int] | None:
    """ "told a briefing that …", "told analysts on a call that she expected …": a clause
    the parser hung on the addressee, or on a noun after it, as a relative clause. A clause
    opened by "that" with a subject of its own (no gap, so no relative clause) is what was
    said."""
    nouns = [c for c in cue.children if c.dep_ in ("dobj", "dative")]
    for prep in (c for c in cue.children if c.dep_ == "prep"):
        nouns += [c for c in prep.children if c.dep_ == "pobj"]
    for noun in nouns:
        for clause in noun.rights:
            if clause.dep_ not in ("acl", "relcl", "ccomp"):
                continue
            first = clause.doc[clause.left_edge.i]
            marked = any(c.dep_ == "mark" and c.lower_ == "that" for c in clause.children)
            own_subject = any(
                c.dep_ in ("nsubj", "nsubjpass") and c.lower_ != "that" for c in clause.children
            )
            if marked or (first.lower_ == "that" and own_subject):
                start = first.i + 1 if first.lower_ == "that" else first.i
                return _trimmed(clause.doc[start : clause.right_edge.i + 1])
    return None


def _parenthetical_content(cue: Token) -> tuple[int, int] | None:
    """ "Lenox was a juggernaut, Mr. Clarke said, until …": a reporting clause set off inside
    or after the sentence it reports; the content is the sentence outside that clause."""
    sent = sentence_of(cue)
    clause = {t.i for t in cue.subtree}
    if cue.dep_ == "ROOT":
        clause = {cue.i} | {
            t.i
            for c in cue.children
            if c.dep_ not in ("parataxis", "advcl", "ccomp", "conj")
            for t in c.subtree
        }
    if not any(c.dep_ in SUBJECT_DEPS for c in cue.children):
        clause |= set(adjacent_phrase(cue))
    outside = [t for t in sent if t.i not in clause and not t.is_punct and not t.is_space]
    if len(outside) < _MIN_CONTINUATION_WORDS:
        return None
    words = [i for i in clause if not cue.doc[i].is_punct]
    before, after = min(words) - 1, max(words) + 1
    doc = cue.doc
    set_off = (before >= sent.start and doc[before].text in ",—–") or (
        after < sent.end and doc[after].text in ",—–"
    )
    if not set_off:
        return None
    return outside[0].idx, outside[-1].idx + len(outside[-1])


def _direct(speaker: Speaker, cue: str, quote: Quote, text: str) -> Found:
    start, end = quote.trimmed(text)
    return Found(speaker, cue, start, end, "direct")


def _complement(cue: Token) -> tuple[int, int] | None:
    """Character range of what the cue reports, or None when it governs no clause."""
    doc = cue.doc
    if cue.lower_ == "according":
        sent = sentence_of(cue)
        phrase = doc[cue.left_edge.i : cue.right_edge.i + 1]
        if phrase.start <= sent.start + 1:
            rest = doc[phrase.end : sent.end]
        else:
            rest = doc[sent.start : phrase.start]
        return _trimmed(rest)
    charged = charge(cue)
    if charged is not None:  # "accused the party of using …": addressee and charge
        obj, prep = charged
        return _trimmed(doc[obj.left_edge.i : prep.right_edge.i + 1])
    evaluated = characterisation(cue)
    if evaluated is not None:  # "called the charges unsubstantiated"
        obj, predicate = evaluated
        return _trimmed(
            doc[min(obj.left_edge.i, predicate.left_edge.i) : predicate.right_edge.i + 1]
        )
    about = topic(cue)
    if about is not None:  # "warned of landslides …", "called for a ceasefire"
        return _trimmed(doc[about.i + 1 : max(about.right_edge.i, cue.right_edge.i) + 1])
    for child in cue.children:
        if _across_semicolon(cue, child):
            continue  # "It is unlikely; the team says she will …": another clause
        if child.dep_ in ("ccomp", "xcomp") or call_on(cue, child) or object_content(cue, child):
            first = child.i + 1 if child.dep_ == "prep" else child.left_edge.i
            last = child.right_edge.i
            if child.dep_ == "prep":  # "called on X to do Y": the request runs to Y's end
                xcomp = [c for c in cue.children if c.dep_ == "xcomp" and c.i > child.i]
                last = max([last, *(c.right_edge.i for c in xcomp)])
            if child.dep_ == "ccomp":
                last = _continued_clause(cue, last)
            span = doc[first : _before_other_reports(child, last) + 1]
            if span and (
                (span[0].tag_ in _WH_WORDS and span[0].lower_ != "that")
                or span[0].lower_ == "whether"
            ):
                return None  # "did not say what topics were discussed": a question, not a claim
            return _trimmed(span)
    return None


def _before_other_reports(root: Token, last: int) -> int:
    """Where the content ends: before a coordinated or participial report of its own
    ("said X and warned that Y", "said X, reiterating Y"), which is a statement apart."""
    for child in root.children:
        if (
            child.dep_ in ("conj", "advcl")
            and child.i > root.i
            and verb_class(child.lemma_) is not None
            and (has_complement(child) or child.tag_ == "VBG")
        ):
            end = child.left_edge.i - 1
            while end > root.i and (root.doc[end].is_punct or root.doc[end].dep_ == "cc"):
                end -= 1
            return min(last, end)
    return last


def _across_semicolon(cue: Token, child: Token) -> bool:
    doc = cue.doc
    low, high = sorted((cue.i, child.left_edge.i if child.i > cue.i else child.right_edge.i))
    return any(t.text == ";" for t in doc[low:high])


def _continued_clause(cue: Token, last: int) -> int:
    """Where a reported clause ends when the parser hung its second half on the cue: "said
    Trump has respect for the military and his comment was frustration", the second clause
    coordinated with a subject of its own (the speaker's own next act has none: "said X and
    left") and no reporting verb, right after the first."""
    doc = cue.doc
    for conj in cue.children:
        if conj.dep_ not in ("conj", "ccomp") or conj.i <= last or verb_class(conj.lemma_):
            continue
        between = doc[last + 1 : conj.left_edge.i]
        own_subject = any(c.dep_ in ("nsubj", "nsubjpass") for c in conj.children)
        if own_subject and all(t.dep_ == "cc" or t.is_punct for t in between):
            last = conj.right_edge.i
    return last


def _trimmed(span: Span) -> tuple[int, int] | None:
    tokens = [t for t in span if not (t.is_punct and t.text not in "%$")]
    while tokens and tokens[0].dep_ == "mark" and tokens[0].lower_ in ("that", "whether", "if"):
        tokens = tokens[1:]
    while tokens and tokens[-1].dep_ == "cc":
        tokens = tokens[:-1]  # "… for the military and"
    if not tokens:
        return None
    return tokens[0].idx, tokens[-1].idx + len(tokens[-1])


def _evaluated(cue: Token, quote: Quote) -> tuple[int, int] | None:
    """The characters of the object a quoted evaluation is about ("the employers' offer of
    17,500 taka" in "called the employers' offer of 17,500 taka “an insult”")."""
    obj = next((c for c in cue.children if c.dep_ in ("dobj", "oprd")), None)
    if obj is None:
        return None
    words = [t for t in obj.subtree if t.idx < quote.start and not t.is_punct]
    if not words:
        return None
    return words[0].idx, words[-1].idx + len(words[-1])


def _other_reports(cue: Token, sent: Span) -> list[tuple[int, int]]:
    """Character ranges of what the other reporting verbs of the sentence govern: a quotation
    there is theirs ("dismissed the criticism, saying the rain was “…”")."""
    doc = cue.doc
    ranges = []
    for token in sent:
        if token.i == cue.i or token.pos_ != "VERB" or verb_class(token.lemma_) is None:
            continue
        if cue in token.subtree or _quoted(token):
            continue
        last = doc[token.right_edge.i]
        ranges.append((token.idx, last.idx + len(last)))
    return ranges


def _quoted(token: Token) -> bool:
    return quoted_mask(token.doc)[token.i]


_TITLE_MAX_WORDS = 8


def _is_title(quote: Quote, text: str) -> bool:
    """A short quotation whose every word is capitalised ("What My Legs Said") names a work;
    it reports no speech."""
    words = [w for w in quote.text(text).strip(" ,.").split() if w[:1].isalpha()]
    return (
        2 <= len(words) <= _TITLE_MAX_WORDS
        and all(w[:1].isupper() for w in words)
        and not quote.text(text).rstrip().endswith((".", "!", "?"))
    )


def _overlaps(quote: Quote, sent: Span) -> bool:
    return quote.inner_start < sent.end_char and quote.inner_end > sent.start_char


def _is_full_quote(quote: Quote, text: str) -> bool:
    return len(quote.text(text).split()) >= _MIN_CONTINUATION_WORDS


def _continuations(
    text: str, quotes: Sequence[Quote], used: set[Quote], found: Sequence[Found]
) -> list[Found]:
    """Quotes with no cue of their own, given to the speaker the paragraphs imply."""
    if not found:
        return []
    paragraphs = _paragraph_starts(text)
    out: list[Found] = []
    for quote in quotes:
        if quote in used or len(quote.text(text).split()) < _MIN_CONTINUATION_WORDS:
            continue
        if any(f.start <= quote.inner_start and quote.inner_end <= f.end for f in found):
            continue  # a quoted fragment inside reported speech: already part of a statement
        para = _paragraph_of(paragraphs, quote.inner_start)
        known = [*found, *out]  # a quotation can run on over several paragraphs
        same = [f for f in known if _paragraph_of(paragraphs, f.start) == para]
        previous = [f for f in known if _paragraph_of(paragraphs, f.start) == para - 1]
        if same:
            owner = min(same, key=lambda f: abs(f.start - quote.inner_start))
        elif previous:
            owner = previous[-1]
        else:
            continue
        used.add(quote)
        out.append(_direct(owner.speaker, owner.cue, quote, text))
    return out


def _paragraph_starts(text: str) -> list[int]:
    starts = [0]
    starts.extend(i + 1 for i, c in enumerate(text) if c == "\n")
    return starts


def _paragraph_of(starts: Sequence[int], offset: int) -> int:
    lo, hi = 0, len(starts)
    while lo + 1 < hi:
        mid = (lo + hi) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid
    return lo


def _records(doc: Doc, article_id: str, found: Iterable[Found]) -> list[Statement]:
    seen: set[tuple[int, int]] = set()
    out: list[Statement] = []
    for f in sorted(found, key=lambda f: (f.start, f.end)):
        if (f.start, f.end) in seen or f.end <= f.start:
            continue
        seen.add((f.start, f.end))
        content = text_of(doc)[f.start : f.end]
        out.append(
            Statement(
                statement_id=statement_id(article_id, f.start, f.end, content),
                article_id=article_id,
                speaker=f.speaker,
                cue=f.cue,
                content=content,
                start=f.start,
                end=f.end,
                kind=f.kind,
                stances=stances_for(
                    doc, f.start, f.end, f.lemma, about=f.about, speaker=f.speaker.name
                ),
            )
        )
    return out
