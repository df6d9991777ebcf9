"""Who said what: statements found in a parsed article.

The method is syntactic and lexical, over spaCy's dependency parse:

1. **Cues** are reporting verbs (:mod:`.lexicon`) outside quotation marks, not negated
   ("did not say"), not withheld ("declined to comment"), not passive ("is said to"), and
   "according to X" phrases.
2. The **speaker** is the cue's subject (or the object of "according to", or of "quoted X as
   saying"), resolved by :class:`~.speakers.ArticleSpeakers`.
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
from streams.nlp.doccache import sentence_of, text_of
from streams.nlp.layout import signed_quotes, transcript_turns
from streams.nlp.lexicon import NEEDS_COMPLEMENT, WITHHOLDING, verb_class
from streams.nlp.quotes import Quote, find_quotes
from streams.nlp.speakers import ArticleSpeakers
from streams.nlp.stance import stances_for
from streams.records import Speaker, Statement, StatementKind

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span, Token

_SUBJECT_DEPS = frozenset({"nsubj"})
_COMPLEMENT_DEPS = frozenset({"ccomp", "xcomp", "parataxis"})
_NON_SPEAKERS = frozenset(
    {
        "i",
        "we",
        "you",
        "it",
        "they",
        "who",
        "which",
        "that",
        "this",
        "what",
        "me",
        "us",
        "him",  # object pronouns are never subjects: a parse that says so is wrong
        "her",
        "them",
        "one",
        "someone",
        "anyone",
        "nobody",
    }
)
_OBJECT_CLASSES = frozenset({"reject", "deny", "accept", "announce"})
_WH_WORDS = frozenset({"WDT", "WP", "WP$", "WRB"})
_MIN_CONTINUATION_WORDS = 4
_RELATIVE = frozenset({"who", "that", "which"})
_INVERSION_MARKS = frozenset({",", "”", '"', "''", "’", "—", "–"})
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


def extract_statements(
    doc: Doc, article_id: str, speakers: ArticleSpeakers | None = None
) -> list[Statement]:
    """Every statement of ``doc``, in text order, with its resolved speaker."""
    speakers = speakers or ArticleSpeakers(doc)
    quotes = _quotes_of(doc)
    used: set[Quote] = set()
    found: list[Found] = []
    for cue in _cues(doc):
        head = _speaker_head(cue)
        if head is None:
            continue
        speaker = speakers.resolve(head)
        if speaker is None:
            continue
        found.extend(replace(f, lemma=cue.lemma_) for f in _content(cue, speaker, quotes, used))
    found.extend(_typographic(doc, speakers, quotes, used))
    found.extend(_continuations(text_of(doc), quotes, used, found))
    return _records(doc, article_id, found)


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


def _cues(doc: Doc) -> Iterable[Token]:
    inside = _quoted_mask(doc)
    for token in doc:
        if inside[token.i] or token.pos_ not in ("VERB", "AUX"):
            continue
        if token.lower_ == "according":
            continue
        if verb_class(token.lemma_) is None or _negated(token) or _withheld(token):
            continue
        if any(c.dep_ in ("auxpass", "nsubjpass") for c in token.children):
            continue  # "is said to", "was told"
        if token.lemma_ == "call" and any(c.dep_ == "oprd" for c in token.children):
            continue  # "what he called X": naming, not speech
        if token.lemma_ in NEEDS_COMPLEMENT and not _has_complement(token):
            continue
        if _under_withheld_speech(token):
            continue  # "did not say who he spoke to"
        yield token
    for token in doc:
        if token.lower_ == "according" and not inside[token.i]:
            yield token


def _quotes_of(doc: Doc) -> list[Quote]:
    """The doc's quotations, found once and kept in ``doc.user_data``."""
    cached = doc.user_data.get("streams.quotes")
    if cached is None:
        cached = doc.user_data["streams.quotes"] = find_quotes(text_of(doc))
    return list(cached)


def _quoted_mask(doc: Doc) -> list[bool]:
    """For each token, whether it lies inside a quotation (cached in ``doc.user_data``)."""
    cached = doc.user_data.get("streams.quoted")
    if cached is not None:
        return list(cached)
    mask = [False] * len(doc)
    for quote in _quotes_of(doc):
        span = doc.char_span(quote.inner_start, quote.inner_end, alignment_mode="expand")
        if span is not None:
            for i in range(span.start, span.end):
                mask[i] = True
    doc.user_data["streams.quoted"] = mask
    return mask


def _negated(token: Token) -> bool:
    return any(c.dep_ == "neg" for c in token.children)


def _under_withheld_speech(token: Token) -> bool:
    """Whether ``token`` lies in what a negated or withheld reporting verb governs."""
    for ancestor in token.ancestors:
        if verb_class(ancestor.lemma_) is not None and (_negated(ancestor) or _withheld(ancestor)):
            return True
    return False


def _withheld(token: Token) -> bool:
    return token.dep_ == "xcomp" and token.head.lemma_ in WITHHOLDING


def _has_complement(token: Token) -> bool:
    return any(
        c.dep_ in _COMPLEMENT_DEPS or _object_content(token, c) or _call_on(token, c)
        for c in token.children
    )


def _call_on(cue: Token, child: Token) -> bool:
    """ "called on X to do Y": the request is the content."""
    return cue.lemma_ == "call" and child.dep_ == "prep" and child.lower_ == "on"


def _object_content(cue: Token, child: Token) -> bool:
    """ "ruled out talks", "denied the report": for these verbs the object is what is said."""
    return child.dep_ == "dobj" and verb_class(cue.lemma_) in _OBJECT_CLASSES


def _speaker_head(cue: Token) -> Token | None:
    if cue.lower_ == "according":
        to = next((c for c in cue.children if c.lower_ == "to"), None)
        pobj = next((c for c in to.children if c.dep_ == "pobj"), None) if to else None
        return pobj if pobj is not None and _speakerish(pobj) else None
    if cue.lemma_ == "quote":  # "X quoted Y as saying"
        as_ = next((c for c in cue.children if c.lower_ == "as"), None)
        obj = next((c for c in cue.children if c.dep_ == "dobj"), None)
        if as_ is not None and obj is not None and _speakerish(obj):
            return obj
    subject = _subject(cue)
    if subject is None or _in_quote(subject):
        subject = _inverted_subject(cue)  # "“…,” said Leslie Wimes, a …"
    if subject is None:
        subject = _adjacent_subject(cue) or _absolute_subject(cue)
    if subject is not None and subject.lower_ in _RELATIVE and cue.dep_ == "relcl":
        subject = cue.head  # "the official who said ...": the relative clause's noun
    return subject if subject is not None and _speakerish(subject) else None


def _adjacent_subject(cue: Token) -> Token | None:
    """ "…, the presidential palace said.": the noun phrase set off by a comma right before a
    subjectless cue, whatever the parser attached it to."""
    phrase = _adjacent_phrase(cue)
    return cue.doc[phrase[-1]] if phrase else None


def _adjacent_phrase(cue: Token) -> list[int]:
    doc = cue.doc
    i = cue.i - 1
    while i >= 0 and doc[i].pos_ in ("DET", "ADJ", "NOUN", "PROPN", "PART") and not doc[i].is_punct:
        i -= 1
    phrase = list(range(i + 1, cue.i))
    if not phrase or i < 0 or doc[i].text != "," or doc[cue.i - 1].pos_ not in ("NOUN", "PROPN"):
        return []
    return phrase


def _absolute_subject(cue: Token) -> Token | None:
    """ "with Trump on Wednesday calling on Iran to …": the noun of an absolute "with"
    construction is the subject of the participle that follows it."""
    if cue.tag_ != "VBG":
        return None
    doc = cue.doc
    i = cue.i - 1
    while i >= 0 and (doc[i].ent_type_ in ("DATE", "TIME") or doc[i].pos_ in ("ADP", "ADV")):
        i -= 1
    if (
        i >= 0
        and doc[i].pos_ in ("PROPN", "NOUN")
        and doc[i].dep_ == "pobj"
        and (doc[i].head.lower_ == "with")
    ):
        return doc[i]
    return None


def _in_quote(token: Token) -> bool:
    return _quoted_mask(token.doc)[token.i]


def _inverted_subject(cue: Token) -> Token | None:
    """The speaker of a cue whose parsed subject is missing or inside the quotation: the
    noun phrase between the closing quote and the cue ("“…,” Flynn, a surrogate, said"), or
    right after the cue in inverted order ("“…,” said the minister"; "Said Ellis: “…”")."""
    doc = cue.doc
    if cue.tag_ not in ("VBD", "VBZ", "VBP"):
        return None  # only a finite verb inverts: "…,” said X" (not "…, reiterating X")
    before = cue.i - 1
    while before >= 0 and doc[before].pos_ in ("ADV", "AUX"):
        before -= 1
    sentence_start = sentence_of(cue).start
    if before >= sentence_start and doc[before].text not in _INVERSION_MARKS:
        preceding = _between_quote_and(cue)
        if preceding is not None:
            return preceding
        return None
    i = cue.i + 1
    while i < len(doc) and doc[i].pos_ in ("DET", "ADJ", "PROPN", "NOUN"):
        head = doc[i]
        while head.head.i > head.i and head.head.pos_ in ("PROPN", "NOUN"):
            head = head.head
        if head.ent_type_ in ("DATE", "TIME"):
            return None  # "said Thursday": no speaker after the cue
        if head.pos_ in ("PROPN", "NOUN") and head.i > cue.i and not _in_quote(head):
            return None if head.dep_ in ("dobj", "dative") else head
        i += 1
    return None


def _between_quote_and(cue: Token) -> Token | None:
    """The first noun phrase after the last quotation that closes before ``cue`` in its
    sentence, when only that phrase (and its apposition) stands between them."""
    doc = cue.doc
    sentence = sentence_of(cue)
    inside = _quoted_mask(doc)
    i = cue.i - 1
    while i >= sentence.start and not inside[i]:
        i -= 1
    if i < sentence.start:
        return None
    for token in doc[i + 1 : cue.i]:
        if token.pos_ in ("PROPN", "NOUN") and token.ent_type_ not in ("DATE", "TIME"):
            head = token
            while (
                head.head.i > head.i and head.head.i < cue.i and head.head.pos_ in ("PROPN", "NOUN")
            ):
                head = head.head
            return head
    return None


def _subject(verb: Token, depth: int = 0) -> Token | None:
    """The verb's subject; a conjoined verb ("met Y and said Z") or a participle ("…, saying
    Z") shares the subject of the verb it hangs from, unless that verb is itself reported."""
    subject = next((c for c in verb.children if c.dep_ in _SUBJECT_DEPS), None)
    if subject is not None or depth > 3:
        return subject
    head = verb.head
    participle = (
        verb.dep_ in ("advcl", "xcomp")
        and verb.tag_ == "VBG"
        and verb.i > 0
        and verb.doc[verb.left_edge.i - 1].text == ","  # "…, saying that …"
        and _has_complement(verb)
    )
    shares = verb.dep_ == "conj" or participle
    if shares and head.i != verb.i and head.pos_ in ("VERB", "AUX"):
        if not _reported(head):
            return _subject(head, depth + 1)
        if verb.dep_ == "conj" and verb_class(verb.lemma_) is not None:
            # "X said Y and warned Z", parsed with "warned" inside Y: X warned
            return _subject(head.head, depth + 1)
    return None


def _reported(verb: Token) -> bool:
    """Whether ``verb`` heads the complement of a reporting verb (it is what was said)."""
    return verb.dep_ in ("ccomp", "xcomp") and verb_class(verb.head.lemma_) is not None


def _speakerish(token: Token) -> bool:
    return token.pos_ in ("PROPN", "NOUN", "PRON") and token.lower_ not in _NON_SPEAKERS


def _cue_text(cue: Token) -> str:
    if cue.lower_ == "according":
        return "according to"
    particles = [c for c in cue.children if c.dep_ == "prt" or _call_on(cue, c)]
    return " ".join([cue.text, *(p.text for p in particles)])


def _content(
    cue: Token, speaker: Speaker, quotes: Sequence[Quote], used: set[Quote]
) -> list[Found]:
    sent = sentence_of(cue)
    cue_text = _cue_text(cue)
    in_sentence = [
        q
        for q in quotes
        if q not in used and _overlaps(q, sent) and q.inner_end - q.inner_start > 1
    ]
    complement = _complement(cue)
    if complement is None and _has_complement(cue) and not in_sentence:
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
    clause = _that_clause_of_object(cue)
    if clause is not None:
        return [Found(speaker, cue_text, *clause, "indirect")]
    rest = _parenthetical_content(cue) if cue.lemma_ not in NEEDS_COMPLEMENT else None
    return [Found(speaker, cue_text, *rest, "indirect")] if rest else []


def _that_clause_of_object(cue: Token) -> tuple[int, int] | None:
    """ "told a briefing that …", parsed with the clause on the object: the clause."""
    for obj in cue.children:
        if obj.dep_ not in ("dobj", "dative"):
            continue
        for clause in obj.rights:
            if clause.dep_ in ("acl", "relcl", "ccomp") and any(
                c.dep_ == "mark" and c.lower_ == "that" for c in clause.children
            ):
                return _trimmed(cue.doc[clause.left_edge.i : clause.right_edge.i + 1])
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
    if not any(c.dep_ in _SUBJECT_DEPS for c in cue.children):
        clause |= set(_adjacent_phrase(cue))
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
    for child in cue.children:
        if child.dep_ in ("ccomp", "xcomp") or _call_on(cue, child) or _object_content(cue, child):
            first = child.i + 1 if child.dep_ == "prep" else child.left_edge.i
            last = child.right_edge.i
            if child.dep_ == "prep":  # "called on X to do Y": the request runs to Y's end
                xcomp = [c for c in cue.children if c.dep_ == "xcomp" and c.i > child.i]
                last = max([last, *(c.right_edge.i for c in xcomp)])
            span = doc[first : _before_other_reports(child, last) + 1]
            if (span and span[0].tag_ in _WH_WORDS) or (span and span[0].lower_ == "whether"):
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
            and (_has_complement(child) or child.tag_ == "VBG")
        ):
            end = child.left_edge.i - 1
            while end > root.i and (root.doc[end].is_punct or root.doc[end].dep_ == "cc"):
                end -= 1
            return min(last, end)
    return last


def _trimmed(span: Span) -> tuple[int, int] | None:
    tokens = [t for t in span if not (t.is_punct and t.text not in "%$")]
    while tokens and tokens[0].dep_ == "mark" and tokens[0].lower_ in ("that", "whether", "if"):
        tokens = tokens[1:]
    if not tokens:
        return None
    return tokens[0].idx, tokens[-1].idx + len(tokens[-1])


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
                statement_id=statement_id(article_id, f.start, f.end),
                article_id=article_id,
                speaker=f.speaker,
                cue=f.cue,
                content=content,
                start=f.start,
                end=f.end,
                kind=f.kind,
                stances=stances_for(doc, f.start, f.end, f.lemma),
            )
        )
    return out
