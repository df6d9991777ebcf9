"""Sets annotated to ``ANNOTATION.md`` (the project's ``tests/annotated`` and
``../shared/data/newsdev``), and their scores.

Every article is enriched in order with one shared speaker registry, as ``streams extract``
does, so that cross-article identity is measured too:

- **statements**: precision, recall and F1; a predicted statement matches a gold one (one to
  one, greedily) when their word tokens overlap by at least half of the larger;
- **content tokens**: precision, recall and F1 of word tokens, as for PolNeAR;
- **speaker accuracy**: matched statements whose speaker is the gold person or body (the
  canonical names agree, or the gold name's last word is in the predicted one);
- **canonical-name rate**: matched statements whose speaker name is exactly the gold
  canonical name (accents and case aside);
- **splits / merges**: gold speakers spread over more than one ``speaker_id``, and
  ``speaker_id`` values shared by more than one gold speaker, over the whole set;
- **stance accuracy**: gold (statement, target, polarity) triples whose matched statement
  has a stance on that target with that polarity (a target not reported counts as neutral);
  over the targets of matched statements, and over all gold targets (a missed statement's
  targets count as wrong).

``problems`` lists every miss: gold statements not found, predicted statements that are not
gold, wrong or non-canonical speakers, wrong stances, and the split and merged speakers.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streams.evaluation.matching import ContentTokens, excerpt, f1, match, ratio
from streams.nlp.enrich import Enricher
from streams.nlp.names import name_words
from streams.nlp.registry import SpeakerRegistry
from streams.records import Article, EnrichedArticle, Statement


@dataclass(frozen=True, slots=True)
class GoldStatement:
    speaker: str
    start: int
    end: int
    stance: dict[str, str]


@dataclass
class AnnotatedArticle:
    name: str
    text: str
    statements: list[GoldStatement] = field(default_factory=list)


def load(directory: Path, root: Path | None = None) -> list[AnnotatedArticle]:
    """Every ``*.json`` article of ``directory``, in name order."""
    root = root or directory.parent.parent
    articles = []
    for path in sorted(directory.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        text = data.get("text")
        if text is None:
            text = (root / data["text_file"]).read_text(encoding="utf-8")
        gold = []
        for item in data["statements"]:
            start = text.index(item["content"])
            gold.append(
                GoldStatement(
                    item["speaker"],
                    start,
                    start + len(item["content"]),
                    dict(item.get("stance", {})),
                )
            )
        articles.append(AnnotatedArticle(path.stem, text, gold))
    return articles


def _same_name(a: str, b: str) -> bool:
    return name_words(a) == name_words(b)


def _same_speaker(predicted: str, gold: str) -> bool:
    if _same_name(predicted, gold):
        return True
    gold_words, words = name_words(gold), name_words(predicted)
    return bool(gold_words) and gold_words[-1] in words


def _match(
    text: str, gold: list[GoldStatement], predicted: tuple[Statement, ...]
) -> list[tuple[GoldStatement, Statement]]:
    pairs = match(
        text, [((s.start, s.end),) for s in predicted], [((g.start, g.end),) for g in gold]
    )
    return [(gold[g], predicted[p]) for p, g in pairs]


@dataclass
class _Tally:
    predicted: int = 0
    gold: int = 0
    matched: int = 0
    speaker_ok: int = 0
    canonical: int = 0
    stance_n: int = 0
    stance_ok: int = 0
    stance_all: int = 0
    content: ContentTokens = field(default_factory=ContentTokens)
    ids_of_gold: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    golds_of_id: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    problems: list[str] = field(default_factory=list)


def _polarity_of(statement: Statement, target: str) -> str:
    """The predicted polarity toward a gold target: a reported target that contains it or
    that it contains; neutral when none is reported."""
    target = target.lower()
    for stance in statement.stances:
        got = stance.target.lower()
        if target in got or got in target:
            return stance.polarity
    return "neutral"


def _score_article(tally: _Tally, article: AnnotatedArticle, result: EnrichedArticle) -> None:
    name, text = article.name, article.text
    tally.predicted += len(result.statements)
    tally.gold += len(article.statements)
    tally.stance_all += sum(len(g.stance) for g in article.statements)
    tally.content.add(
        text,
        [(s.start, s.end) for s in result.statements],
        [(g.start, g.end) for g in article.statements],
    )
    pairs = _match(text, article.statements, result.statements)
    tally.matched += len(pairs)
    for gold, statement in pairs:
        speaker = statement.speaker
        tally.ids_of_gold[gold.speaker].add(speaker.id)
        tally.golds_of_id[speaker.id].add(gold.speaker)
        if _same_speaker(speaker.name, gold.speaker):
            tally.speaker_ok += 1
            if _same_name(speaker.name, gold.speaker):
                tally.canonical += 1
            else:
                tally.problems.append(
                    f"{name}: name {speaker.name!r} for {gold.speaker!r} ({speaker.mention!r})"
                )
        else:
            tally.problems.append(
                f"{name}: speaker {speaker.name!r} for {gold.speaker!r} "
                f"({speaker.mention!r}, cue {statement.cue!r})"
            )
        for target, polarity in gold.stance.items():
            tally.stance_n += 1
            got = _polarity_of(statement, target)
            if got == polarity:
                tally.stance_ok += 1
            else:
                reported = ", ".join(f"{s.target}:{s.polarity}" for s in statement.stances)
                tally.problems.append(
                    f"{name}: stance {got} for {target!r}:{polarity} (reported: {reported or '-'})"
                )
    found = {id(g) for g, _ in pairs}
    used = {id(s) for _, s in pairs}
    tally.problems += [
        f"{name}: missed {g.speaker!r}: {excerpt(text[g.start : g.end])}"
        for g in article.statements
        if id(g) not in found
    ]
    tally.problems += [
        f"{name}: spurious {s.speaker.name!r} {s.cue!r} ({s.kind}): {excerpt(s.content)}"
        for s in result.statements
        if id(s) not in used
    ]


def evaluate(enricher: Enricher, articles: list[AnnotatedArticle]) -> dict[str, Any]:
    """Scores over ``articles`` (see the module docstring)."""
    registry = SpeakerRegistry()
    tally = _Tally()
    for article in articles:
        result = enricher.enrich([Article(article_id=article.name, text=article.text)])[0]
        if not isinstance(result, EnrichedArticle):
            raise RuntimeError(f"{article.name}: {result}")
        result, _ = registry.apply(result)
        _score_article(tally, article, result)
    for gold, ids in sorted(tally.ids_of_gold.items()):
        if len(ids) > 1:
            tally.problems.append(f"split: {gold!r} over {sorted(ids)}")
    for speaker_id, golds in sorted(tally.golds_of_id.items()):
        if len(golds) > 1:
            tally.problems.append(f"merge: {speaker_id} for {sorted(golds)}")
    precision = tally.matched / tally.predicted if tally.predicted else 0.0
    recall = tally.matched / tally.gold if tally.gold else 0.0
    return {
        "articles": len(articles),
        "gold_statements": tally.gold,
        "predicted_statements": tally.predicted,
        "statement_precision": round(precision, 4),
        "statement_recall": round(recall, 4),
        "statement_f1": round(f1(precision, recall), 4),
        **tally.content.as_dict(),
        "speaker_accuracy": ratio(tally.speaker_ok, tally.matched),
        "canonical_name_rate": ratio(tally.canonical, tally.matched),
        "speaker_splits": sum(len(ids) - 1 for ids in tally.ids_of_gold.values()),
        "speaker_merges": sum(len(golds) - 1 for golds in tally.golds_of_id.values()),
        "stance_targets": tally.stance_n,
        "stance_accuracy": ratio(tally.stance_ok, tally.stance_n),
        "stance_targets_all": tally.stance_all,
        "stance_accuracy_all": ratio(tally.stance_ok, tally.stance_all),
        "problems": tally.problems,
    }
