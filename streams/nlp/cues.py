"""Cues and their speakers: where a statement is introduced, and by whom.

A cue is a reporting verb (:mod:`.lexicon`) outside quotation marks, not negated ("did not
say"), not withheld ("declined to comment"), not passive ("is said to"), not naming ("what he
called X"), or "according to". Its speaker is its subject, or, where the parse hides it, the
subject of the verb it is coordinated with, the noun phrase between the closing quote and
the cue, the noun phrase after it in inverted order, the phrase set off right before it, or
the noun of an absolute "with" construction.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from streams.nlp.doccache import sentence_of, text_of
from streams.nlp.lexicon import NEEDS_COMPLEMENT, WITHHOLDING, verb_class
from streams.nlp.quotes import Quote, find_quotes

if TYPE_CHECKING:
    from spacy.tokens import Doc, Token

SUBJECT_DEPS = frozenset({"nsubj"})
_COMPLEMENT_DEPS = frozenset({"ccomp", "xcomp", "parataxis"})
_NON_SPEAKERS = frozenset(
    {
        "i",
        "we",
        "you",
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
_OBJECT_CLASSES = frozenset({"reject", "deny", "accept", "announce", "praise", "criticize"})
#: "accused X of Y", "criticised X for Y", "thanked X for Y": the addressee and the charge
#: (or the credit) together are what was said
_CHARGE_PREPS = {"accuse": ("of",), "suspect": ("of",), "blame": ("for", "on")}
_CHARGE_CLASSES = frozenset({"criticize", "praise", "reject"})
#: "warned of X", "complained about X", "called for X": the prepositional object is the content
_TOPIC_PREPS = {"warn": ("of", "about", "against"), "caution": ("against", "about")}
_TOPIC_PREPS |= {"complain": ("about", "of"), "call": ("for",), "appeal": ("for",)}
_RELATIVE = frozenset({"who", "that", "which"})
_BY_WAY_OF = frozenset({"by", "after", "before", "while", "in", "when"})
#: verbs of saying whose object is what was said ("cited the figures", "mentioned the deal")
_OBJECT_LEMMAS = frozenset({
    "cite", "mention", "tout", "note", "report", "reveal", "disclose", "confirm", "acknowledge",
    "predict", "estimate",
})  # fmt: skip
_INVERSION_MARKS = frozenset({",", "”", '"', "''", "’", "—", "–"})


def find_cues(doc: Doc) -> Iterable[Token]:
    inside = quoted_mask(doc)
    for token in doc:
        if inside[token.i] or token.pos_ not in ("VERB", "AUX"):
            continue
        if token.lower_ == "according":
            continue
        if verb_class(token.lemma_) is None or negated(token) or withheld(token):
            continue
        if any(c.dep_ in ("auxpass", "nsubjpass") for c in token.children):
            continue  # "is said to", "was told"
        if _not_speech(token):
            continue
        if (
            token.lemma_ in NEEDS_COMPLEMENT
            and not has_complement(token)
            and quoted_evaluation(token) is None
            and block_after(token) is None
        ):
            continue
        if token.lemma_ in WITHHOLDING and any(c.dep_ == "xcomp" for c in token.children):
            continue  # "refused to discuss the case": speech withheld, not made
        if _under_withheld_speech(token) or _reason_for_withholding(token):
            continue  # "did not say who he spoke to", "declined to comment, citing …"
        yield token
    for token in doc:
        if token.lower_ == "according" and not inside[token.i]:
            yield token


_MODALS = frozenset({"could", "would", "might", "may", "should", "will", "shall", "can", "must"})


def _not_speech(token: Token) -> bool:
    """Uses of reporting verbs that report no speech: a hypothetical or future ("could ask",
    "will announce"), an infinitive ("is expected to announce", "agreed to recognise"),
    "agreed to" (an act), "called X to congratulate him" (a telephone call), naming ("what
    he called X"), and a finding with no clause ("found him guilty")."""
    children = list(token.children)
    if any(c.dep_ == "aux" and (c.lower_ in _MODALS or c.lower_ == "to") for c in children):
        return True
    if token.lemma_ == "agree" and not any(c.dep_ == "ccomp" for c in children):
        return True
    if token.lemma_ == "call":
        if any(call_on(token, c) for c in children) or topic(token) is not None:
            return False
        if quoted_evaluation(token) is not None:
            return False
        oprd = next((c for c in children if c.dep_ == "oprd"), None)
        # "called the plan a disaster" evaluates; "what he called X", "called him Bob" name
        return oprd is None or oprd.pos_ == "PROPN" or any(c.tag_ in _WH for c in children)
    if verb_class(token.lemma_) == "evidence":
        return not any(
            c.dep_ == "ccomp"
            and c.pos_ in ("VERB", "AUX")
            and any(g.dep_ in ("nsubj", "nsubjpass", "mark") for g in c.children)
            for c in children
        )
    return False


_WH = frozenset({"WDT", "WP", "WP$", "WRB"})


def quoted_evaluation(cue: Token) -> Quote | None:
    """The quotation of "called the offer “an insult …”", "condemned the strike as
    “reckless”", "described the novel as “overlong”": a quotation that follows the cue's
    object (and "as"), with no other verb in between. The act and its quote are one
    statement, whose content is the quotation."""
    if not (cue.lemma_ in _NAMING or verb_class(cue.lemma_) in _EVALUATIVE):
        return None
    objects = [c for c in cue.children if c.dep_ in ("dobj", "oprd")]
    if not objects or cue.dep_ == "relcl" or any(c.tag_ in _WH for c in objects):
        return None  # "what he called “defense capabilities”", "a deal he called “fair”"
    if charge(cue) is not None:
        return None  # "accused the government of “hiding the numbers”": the charge is it
    doc = cue.doc
    for quote in quotes_of(doc):
        if quote.start <= cue.idx:
            continue
        between = doc.char_span(cue.idx + len(cue), quote.start, alignment_mode="expand")
        if between is None or len(between) > 14:
            return None
        if any(not _in_object_phrase(t) for t in between):
            return None
        return quote
    return None


#: verbs that characterise their object ("called X “…”", "described X as “…”")
_NAMING = frozenset({"call", "describe", "brand", "label", "term", "dub", "characterize"})
_EVALUATIVE = frozenset({"reject", "deny", "criticize", "praise", "accept"})


def _in_object_phrase(token: Token) -> bool:
    """Whether a word between a cue and its quoted evaluation can belong to the object noun
    phrase or to "as" ("the employers' offer of 17,500 taka", "the strike as")."""
    if token.pos_ in ("DET", "ADJ", "NOUN", "PROPN", "NUM", "PRON", "SPACE"):
        return token.tag_ not in _WH
    if token.pos_ == "ADP":
        return token.lower_ in ("as", "of")
    return token.tag_ == "POS" or token.text in (",", "'", "’", "-")


_BLOCK_QUOTES = "\"“”'‘’«»„"


def block_after(cue: Token) -> tuple[int, int] | None:
    """The paragraph a reporting clause ending in a colon introduces ("The governor added:",
    "The Times reports:"), as characters without enclosing quotation marks: the convention
    for a long quotation set off as a paragraph of its own."""
    doc = cue.doc
    after = cue.i + 1
    while after < len(doc) and doc[after].dep_ in ("prt", "advmod", "npadvmod"):
        after += 1
    if after >= len(doc) or doc[after].text != ":":
        return None
    text = text_of(doc)
    colon_end = doc[after].idx + 1
    line_end = text.find("\n", colon_end)
    if line_end < 0 or text[colon_end:line_end].strip():
        return None  # the content follows on the same line: the parse has it
    start = line_end
    while start < len(text) and text[start].isspace():
        start += 1
    end = text.find("\n", start)
    end = len(text) if end < 0 else end
    while start < end and text[start] in _BLOCK_QUOTES:
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in _BLOCK_QUOTES):
        end -= 1
    return (start, end) if end - start > 1 else None


def quotes_of(doc: Doc) -> list[Quote]:
    """The doc's quotations, found once and kept in ``doc.user_data``."""
    cached = doc.user_data.get("streams.quotes")
    if cached is None:
        cached = doc.user_data["streams.quotes"] = find_quotes(text_of(doc))
    return list(cached)


def quoted_mask(doc: Doc) -> list[bool]:
    """For each token, whether it lies inside a quotation (cached in ``doc.user_data``)."""
    cached = doc.user_data.get("streams.quoted")
    if cached is not None:
        return list(cached)
    mask = [False] * len(doc)
    for quote in quotes_of(doc):
        span = doc.char_span(quote.inner_start, quote.inner_end, alignment_mode="expand")
        if span is not None:
            for i in range(span.start, span.end):
                mask[i] = True
    doc.user_data["streams.quoted"] = mask
    return mask


def negated(token: Token) -> bool:
    return any(c.dep_ == "neg" for c in token.children)


def _reason_for_withholding(token: Token) -> bool:
    """ "declined to comment, citing the proceedings": the reason given for withheld speech."""
    head = token.head
    return head.lemma_ in WITHHOLDING and any(
        c.dep_ == "xcomp" and verb_class(c.lemma_) is not None for c in head.children
    )


def _under_withheld_speech(token: Token) -> bool:
    """Whether ``token`` lies in what a negated or withheld reporting verb governs."""
    for ancestor in token.ancestors:
        if verb_class(ancestor.lemma_) is not None and (negated(ancestor) or withheld(ancestor)):
            return True
    return False


def withheld(token: Token) -> bool:
    return token.dep_ == "xcomp" and token.head.lemma_ in WITHHOLDING


def has_complement(token: Token) -> bool:
    return (
        any(
            c.dep_ in _COMPLEMENT_DEPS or object_content(token, c) or call_on(token, c)
            for c in token.children
        )
        or charge(token) is not None
        or topic(token) is not None
        or characterisation(token) is not None
    )


def characterisation(cue: Token) -> tuple[Token, Token] | None:
    """(object, predicate) of "called the charges unsubstantiated", "called him a master at
    …": an evaluation in the speaker's words, not a name ("what he called X", "called him
    Bob") and not a quotation (see :func:`quoted_evaluation`)."""
    if cue.lemma_ != "call" or cue.tag_ == "VBG":
        return None  # "welcomed the deal, calling it a turning point": one act, the welcome
    children = list(cue.children)
    obj = next((c for c in children if c.dep_ == "dobj"), None)
    oprd = next((c for c in children if c.dep_ in ("oprd", "xcomp", "ccomp") and c.i > cue.i), None)
    if obj is None or oprd is None or obj.tag_ in _WH or oprd.pos_ == "PROPN":
        return None
    if oprd.pos_ not in ("NOUN", "ADJ") or cue.dep_ == "relcl":
        return None
    return obj, oprd


def charge(cue: Token) -> tuple[Token, Token] | None:
    """(object, preposition) of "accused X of Y", "criticised X for Y", "thanked X for Y"."""
    prepositions = _CHARGE_PREPS.get(cue.lemma_)
    if prepositions is None and verb_class(cue.lemma_) in _CHARGE_CLASSES:
        prepositions = ("for",)
    if prepositions is None:
        return None
    obj = next((c for c in cue.children if c.dep_ == "dobj"), None)
    if obj is None:
        return None
    candidates = [*obj.subtree, *cue.children]
    prep = next(
        (c for c in candidates if c.dep_ == "prep" and c.lower_ in prepositions and c.i > obj.i),
        None,
    )
    return (obj, prep) if prep is not None and any(True for _ in prep.children) else None


def topic(cue: Token) -> Token | None:
    """The preposition of "warned of X", "complained about X", "called for X"."""
    preps = _TOPIC_PREPS.get(cue.lemma_, ())
    return next(
        (
            c
            for c in cue.children
            if c.dep_ == "prep" and c.lower_ in preps and any(g.dep_ == "pobj" for g in c.children)
        ),
        None,
    )


def call_on(cue: Token, child: Token) -> bool:
    """ "called on X to do Y": the request is the content."""
    return cue.lemma_ == "call" and child.dep_ == "prep" and child.lower_ == "on"


def object_content(cue: Token, child: Token) -> bool:
    """ "ruled out talks", "denied the report": for these verbs the object is what is said."""
    return (
        child.dep_ == "dobj"
        and child.pos_ != "PRON"  # "Thank you": no content
        and (verb_class(cue.lemma_) in _OBJECT_CLASSES or cue.lemma_ in _OBJECT_LEMMAS)
    )


def speaker_head(cue: Token) -> Token | None:
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
    phrase = adjacent_phrase(cue)
    return cue.doc[phrase[-1]] if phrase else None


def adjacent_phrase(cue: Token) -> list[int]:
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
    return quoted_mask(token.doc)[token.i]


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
    inside = quoted_mask(doc)
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
    # of two subjects the parser gives ("the consumer group ShopSafe criticised"), the one
    # next to the verb is the name
    subjects = [c for c in verb.children if c.dep_ in SUBJECT_DEPS]
    subject = max(subjects, key=lambda c: c.i) if subjects else None
    if subject is not None or depth > 3:
        return subject
    if verb.dep_ == "acl" and verb.tag_ == "VBD" and verb.head.i < verb.i:
        # a finite past verb is no participle modifying a noun: the parser took "X, a …,
        # called on Y to …" for a noun phrase, and X is the subject
        return verb.head if verb.head.pos_ in ("PROPN", "NOUN") else None
    head = verb.head
    if (
        verb.dep_ == "pcomp"
        and verb.tag_ == "VBG"
        and head.lower_ in _BY_WAY_OF
        and head.head.pos_ in ("VERB", "AUX")
        and not _reported(head.head)
    ):
        # "responded by saying …", "began by saying …": the subject of the verb it qualifies
        return _subject(head.head, depth + 1)
    participle = (
        verb.dep_ in ("advcl", "xcomp")
        and verb.tag_ == "VBG"
        and verb.i > 0
        and verb.doc[verb.left_edge.i - 1].text == ","  # "…, saying that …"
        and has_complement(verb)
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


def cue_label(cue: Token) -> str:
    if cue.lower_ == "according":
        return "according to"
    particles = [c for c in cue.children if c.dep_ == "prt" or call_on(cue, c)]
    return " ".join([cue.text, *(p.text for p in particles)])
