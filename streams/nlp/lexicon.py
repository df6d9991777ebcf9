"""Reporting verbs: the lemmas that introduce speech, with a coarse semantic class.

The classes follow the speech-act verb groups of Levin (1993, §37 "Verbs of Communication")
and Wierzbicka's English speech act verbs: what matters downstream is whether a verb reports
speech at all, and (for stance) whether it carries the speaker's attitude toward its content.
"""

from __future__ import annotations

from typing import Literal

VerbClass = Literal[
    "say",
    "assert",
    "claim",
    "announce",
    "warn",
    "urge",
    "deny",
    "reject",
    "accept",
    "praise",
    "criticize",
    "ask",
    "write",
    "admit",
    "evidence",
]

_BY_CLASS: dict[VerbClass, tuple[str, ...]] = {
    # reports of findings, whose source is often a document ("a poll shows that …")
    "evidence": ("show", "find", "demonstrate", "establish", "determine"),
    "say": (
        "say",
        "tell",
        "add",
        "note",
        "remark",
        "mention",
        "state",
        "describe",
        "reply",
        "respond",
        "answer",
        "recall",
        "continue",
        "comment",
        "observe",
        "quote",
        "report",
        "speak",
        "reiterate",
        "repeat",
        "stress",
        "emphasize",
        "emphasise",
        "underline",
        "point",
        "indicate",
        "suggest",
        "predict",
        "estimate",
        "conclude",
        "testify",
        "brief",
        "inform",
        "disclose",
        "reveal",
        "signal",
        "hint",
        "recount",
        "relate",
        "cite",
        "tout",
        "share",
        "explain",
        "clarify",
    ),
    "assert": (
        "assert",
        "insist",
        "maintain",
        "argue",
        "contend",
        "affirm",
        "vow",
        "pledge",
        "promise",
        "assure",
        "reassure",
        "guarantee",
        "swear",
        "confirm",
    ),
    "claim": (
        "claim",
        "allege",
        "charge",
        "believe",
        "think",
        "feel",
        "hope",
        "expect",
        "fear",
        "worry",
    ),
    "announce": ("announce", "unveil", "publish", "release", "issue", "proclaim", "declare"),
    "warn": ("warn", "caution", "threaten", "alert"),
    "urge": (
        "urge",
        "call",
        "demand",
        "appeal",
        "press",
        "plead",
        "implore",
        "ask",
        "request",
        "order",
        "instruct",
        "advise",
        "recommend",
        "propose",
        "encourage",
        "invite",
    ),
    "deny": ("deny", "dispute", "refute", "contest", "question", "doubt", "dismiss"),
    "reject": ("reject", "rule", "refuse", "oppose", "condemn", "denounce", "decry"),
    # "approved a plan" is a decision, not speech; "agreed to" likewise (see cues)
    "accept": ("accept", "agree", "welcome", "endorse", "support", "back"),
    "praise": ("praise", "hail", "applaud", "commend", "laud", "thank", "congratulate"),
    "criticize": (
        "accuse",
        "blame",
        "criticize",
        "criticise",
        "blast",
        "slam",
        "attack",
        "lambast",
        "rebuke",
        "complain",
        "protest",
        "lament",
        "regret",
        "mock",
        "ridicule",
    ),
    "ask": ("wonder", "inquire", "enquire", "query"),
    "write": ("write", "tweet", "post", "blog", "text", "email"),
    "admit": (
        "admit",
        "acknowledge",
        "concede",
        "confess",
        "recognize",
        "recognise",
    ),
}

REPORTING_VERBS: dict[str, VerbClass] = {
    lemma: cls for cls, lemmas in _BY_CLASS.items() for lemma in lemmas
}

#: Verbs whose complement clause is not a report of speech when they stand alone without a
#: clausal complement or quotation ("he called the shots", "she wrote a book").
NEEDS_COMPLEMENT = frozenset(
    lemma for lemma, cls in REPORTING_VERBS.items() if cls in ("claim", "accept", "praise")
) | {
    "call",
    "write",
    "post",
    "tweet",
    "point",
    "issue",
    "release",
    "publish",
    "share",
    "press",
    "back",
    "support",
    "rule",
    "question",
    "continue",
    "text",
    "show",
    "find",
    "demonstrate",
    "establish",
    "determine",
    "cite",
    "tout",
    "mention",
    # intransitive or addressee-taking uses ("spoke to reporters", "briefed the press")
    "speak",
    "report",
    "brief",
    "inform",
    "answer",
    "respond",
    "reply",
    "repeat",
    "describe",
}

#: Verbs of belief and feeling: a report of a state of mind, which counts as a statement
#: when the article reports it of someone, but not inside what someone else is quoted as
#: saying ("she said she expected costs to fall" is one statement).
MENTAL_STATES = frozenset({"believe", "think", "feel", "hope", "expect", "fear", "worry"})

#: Verbs that, governing a reporting verb, withhold the speech ("declined to comment").
WITHHOLDING = frozenset({"decline", "refuse", "fail", "neglect", "avoid", "stop", "cease"})


def verb_class(lemma: str) -> VerbClass | None:
    """The reporting class of a verb lemma, or None when it does not report speech."""
    return REPORTING_VERBS.get(lemma.lower())
