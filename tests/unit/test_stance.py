"""Stance as a table: statement → (target, polarity)."""

from typing import Any

import pytest

from streams.nlp.stance import stances_for, vader_lexicon


def _stances(nlp: Any, text: str, cue_lemma: str = "say") -> dict[str, str]:
    doc = nlp(text)
    return {s.target: s.polarity for s in stances_for(doc, 0, len(text), cue_lemma)}


@pytest.mark.parametrize(
    ("text", "target", "polarity"),
    [
        ("Iran is ready to join the nuclear negotiations.", "nuclear negotiations", "favor"),
        ("We will not accept the proposal.", "proposal", "against"),
        ("The government welcomed the ceasefire.", "ceasefire", "favor"),
        ("The union rejected the decision.", "decision", "against"),
        ("The minister ruled out new taxes.", "new taxes", "against"),
        ("We are working to ease tensions in the region.", "tensions", "against"),
        ("They refused to end the blockade.", "blockade", "favor"),
        ("The plan is dangerous.", "plan", "against"),
        ("The government would not tear up agreements signed last year.", "agreements", "favor"),
        ("The new rules had created the conditions for a disaster.", "new rules", "against"),
    ],
)
def test_stance_table(nlp: Any, text: str, target: str, polarity: str) -> None:
    assert _stances(nlp, text).get(target) == polarity


def test_the_cue_takes_a_side_for_its_content(nlp: Any) -> None:
    text = "the new border agreement"
    assert _stances(nlp, text, "reject").get("new border agreement") == "against"
    assert _stances(nlp, text, "welcome").get("new border agreement") == "favor"


def test_no_evidence_reports_named_entities_as_neutral(nlp: Any) -> None:
    stances = _stances(nlp, "The leaders of France and Germany met in Berlin on Monday.")
    assert set(stances.values()) == {"neutral"}
    assert {"France", "Germany", "Berlin"} <= set(stances)


def test_scores_are_bounded_and_the_lexicon_ships_with_its_package() -> None:
    lexicon = vader_lexicon()
    assert len(lexicon) > 7000
    assert lexicon["good"] > 0 > lexicon["bad"]


def test_a_subject_takes_no_side_from_its_own_verb(nlp: Any) -> None:
    # "cut" is against what is cut (the waiting times), not against the merger doing it
    stances = _stances(nlp, "The merger would cut waiting times for ships.")
    assert stances.get("merger", "neutral") == "neutral"
    assert stances.get("waiting times") == "against"


def test_a_directive_favours_what_it_asks_for_not_its_addressee(nlp: Any) -> None:
    text = "the city council to commission an independent flood study"
    stances = _stances(nlp, text, "urge")
    assert stances.get("independent flood study") == "favor"
    assert "city council" not in stances


def test_a_quoted_evaluation_is_about_the_object(nlp: Any) -> None:
    from streams.nlp.attribution import extract_statements

    text = "Union leader Rosa Ibarra condemned the pay offer as “an insult to every nurse.”"
    (statement,) = extract_statements(nlp(text), "t")
    assert {s.target: s.polarity for s in statement.stances}.get("pay offer") == "against"


def test_the_speaker_is_no_target_of_their_own_stance(nlp: Any) -> None:
    doc = nlp("Karim Haddad rejected claims that Karim Haddad had lied.")
    stances = stances_for(doc, 0, len(doc.text), "reject", speaker="Karim Haddad")
    assert "Karim Haddad" not in {s.target for s in stances}
