"""PolNeAR (Newell, Margolin and Ruths, LREC 2018) in BRAT standoff, and its scores.

Metrics follow BBC Citron's evaluation of quote extraction:

- **content tokens**: precision = predicted content tokens inside a gold content span /
  predicted content tokens; recall = gold content tokens inside a predicted content span /
  gold content tokens (tokens are runs of letters and digits, per article).
- **span F1**: a predicted content span matches a gold one (one to one, greedily) when their
  token sets overlap by at least half of the larger (Jaccard-like ``overlap / max``).
- **source accuracy**: over predicted statements whose content overlaps a gold attribution's
  content, the share whose speaker is that attribution's source: the speaker mention overlaps
  the gold source span, or the last word of the gold source's name (its text before any
  comma or parenthesis) occurs in the canonical name; where the gold source is a relative
  pronoun ("economists, who said …"), a mention ending right before it is its antecedent. An
  attribution whose gold source is a reporting verb ("said", an annotation slip) is not
  source-scored.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streams.evaluation.matching import ContentTokens, excerpt, f1, match, ratio
from streams.records import EnrichedArticle, Statement

_TOKEN = re.compile(r"\w+", re.UNICODE)
_PARENTHESES = re.compile(r"\([^)]*\)")
_RELATIVE_PRONOUNS = frozenset({"who", "whom", "which", "that"})
_REPORTING_FORMS = frozenset({"said", "says", "say", "told", "tells", "added", "wrote"})


@dataclass(frozen=True, slots=True)
class GoldAttribution:
    content: tuple[tuple[int, int], ...]
    source: tuple[tuple[int, int], ...]
    source_text: str


@dataclass
class GoldArticle:
    name: str
    text: str
    attributions: list[GoldAttribution] = field(default_factory=list)


def _spans(field_text: str) -> tuple[tuple[int, int], ...]:
    out = []
    for part in field_text.split(";"):
        start, end = part.split()[-2:]
        out.append((int(start), int(end)))
    return tuple(out)


def parse_ann(ann: str) -> list[GoldAttribution]:
    """The attributions of one BRAT ``.ann`` file."""
    spans: dict[str, tuple[str, tuple[tuple[int, int], ...], str]] = {}
    events: list[dict[str, str]] = []
    for line in ann.splitlines():
        parts = line.split("\t")
        if line.startswith("T") and len(parts) >= 2:
            kind = parts[1].split()[0]
            spans[parts[0]] = (
                kind,
                _spans(parts[1][len(kind) :]),
                parts[2] if len(parts) > 2 else "",
            )
        elif line.startswith("E") and len(parts) >= 2:
            roles = dict(arg.split(":", 1) for arg in parts[1].split() if ":" in arg)
            events.append(roles)
    out = []
    for roles in events:
        content = spans.get(roles.get("Content", ""))
        if content is None:
            continue
        source = spans.get(roles.get("Source", ""))
        out.append(
            GoldAttribution(
                content=content[1],
                source=source[1] if source else (),
                source_text=source[2] if source else "",
            )
        )
    return out


def load(directory: Path, limit: int | None = None) -> list[GoldArticle]:
    """Articles of the split with the first annotator's attributions (sorted order)."""
    chosen: dict[str, Path] = {}
    for ann in sorted((directory / "attributions").glob("*.ann")):
        chosen.setdefault(ann.stem.rsplit("_", 1)[0], ann)
    articles = []
    for name, ann in sorted(chosen.items()):
        text_path = directory / "text" / f"{name}.txt"
        if not text_path.is_file():
            continue
        text = text_path.read_text(encoding="utf-8")
        articles.append(GoldArticle(name, text, parse_ann(ann.read_text(encoding="utf-8"))))
    return articles[:limit] if limit else articles


def _overlaps(a: Sequence[tuple[int, int]], b: Sequence[tuple[int, int]]) -> bool:
    return any(s1 < e2 and s2 < e1 for s1, e1 in a for s2, e2 in b)


@dataclass
class Scores:
    """Counts summed over articles, the metrics derived from them, and the misses."""

    content: ContentTokens = field(default_factory=ContentTokens)
    pred_spans: int = 0
    gold_spans: int = 0
    spans_matched: int = 0
    sourced: int = 0
    source_correct: int = 0
    articles: int = 0
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        sp = self.spans_matched / self.pred_spans if self.pred_spans else 0.0
        sr = self.spans_matched / self.gold_spans if self.gold_spans else 0.0
        return {
            "articles": self.articles,
            "gold_attributions": self.gold_spans,
            "predicted_statements": self.pred_spans,
            **self.content.as_dict(),
            "span_precision": round(sp, 4),
            "span_recall": round(sr, 4),
            "span_f1": round(f1(sp, sr), 4),
            "source_accuracy": ratio(self.source_correct, self.sourced),
            "problems": self.problems,
        }


def score_article(gold: GoldArticle, predicted: EnrichedArticle, scores: Scores) -> None:
    """Add one article's counts (and misses) to ``scores``."""
    text = gold.text
    gold_content = [g.content for g in gold.attributions]
    pred = [((s.start, s.end),) for s in predicted.statements]
    scores.articles += 1
    scores.content.add(
        text, [s for spans in pred for s in spans], [s for spans in gold_content for s in spans]
    )
    scores.pred_spans += len(pred)
    scores.gold_spans += len(gold_content)
    pairs = match(text, pred, gold_content)
    scores.spans_matched += len(pairs)
    for statement in predicted.statements:
        span = ((statement.start, statement.end),)
        candidates = [
            g
            for g in gold.attributions
            if g.source and _overlaps(span, g.content) and not _cue_as_source(g)
        ]
        if not candidates:
            continue
        scores.sourced += 1
        if any(_source_matches(statement, g, text) for g in candidates):
            scores.source_correct += 1
        else:
            scores.problems.append(
                f"{gold.name}: source {statement.speaker.name!r} ({statement.speaker.mention!r}) "
                f"for {candidates[0].source_text!r}: {excerpt(statement.content)}"
            )
    matched_gold = {g for _, g in pairs}
    matched_pred = {p for p, _ in pairs}
    scores.problems += [
        f"{gold.name}: missed {g.source_text!r}: {excerpt(_joined(text, g.content))}"
        for i, g in enumerate(gold.attributions)
        if i not in matched_gold
    ]
    scores.problems += [
        f"{gold.name}: spurious {s.speaker.name!r} {s.cue!r}: {excerpt(s.content)}"
        for i, s in enumerate(predicted.statements)
        if i not in matched_pred
    ]


def _joined(text: str, spans: Sequence[tuple[int, int]]) -> str:
    return " … ".join(text[start:end] for start, end in spans)


def _cue_as_source(gold: GoldAttribution) -> bool:
    """A gold source that is a reporting verb ("said"): an annotation slip (the cue marked
    as the source), which no speaker can match; such attributions are not source-scored."""
    words = _TOKEN.findall(gold.source_text.lower())
    return len(words) == 1 and words[0] in _REPORTING_FORMS


def _source_matches(statement: Statement, gold: GoldAttribution, text: str) -> bool:
    speaker = statement.speaker
    if _overlaps(((speaker.start, speaker.end),), gold.source):
        return True
    if gold.source and gold.source_text.strip().lower() in _RELATIVE_PRONOUNS:
        # PolNeAR marks the relative pronoun of "economists, who said …" as the source: the
        # source is the noun phrase it stands for, which ends right before it
        between = text[speaker.end : gold.source[0][0]]
        if speaker.end <= gold.source[0][0] and not between.strip(" ,"):
            return True
    # the gold source may carry an apposition ("Michael Mulgrew, president of …") or a
    # party label ("Sen. Claire McCaskill (D-Mo.)"): its name is the part before them
    words = _TOKEN.findall(_PARENTHESES.sub(" ", gold.source_text).split(",")[0])
    return bool(words) and words[-1].lower() in speaker.name.lower().split()
