"""Attribution as a table: sentence → (speaker, cue, content, kind)."""

from typing import Any

import pytest

from streams.nlp.attribution import extract_statements


def _extract(nlp: Any, text: str) -> list[Any]:
    return extract_statements(nlp(text), "test")


@pytest.mark.parametrize(
    ("text", "speaker", "cue", "content", "kind"),
    [
        (
            "Prime Minister Jane Holloway said that the budget would be balanced next year.",
            "Jane Holloway",
            "said",
            "the budget would be balanced next year",
            "indirect",
        ),
        (
            "“We will not back down,” Maria Delgado said on Tuesday.",
            "Maria Delgado",
            "said",
            "We will not back down",
            "direct",
        ),
        (
            "Tom Baker told reporters, “The bridge will reopen in May.”",
            "Tom Baker",
            "told",
            "The bridge will reopen in May.",
            "direct",
        ),
        (
            "Sarah Klein said the plan was “a disaster for farmers” and should be dropped.",
            "Sarah Klein",
            "said",
            "the plan was “a disaster for farmers” and should be dropped",
            "mixed",
        ),
        (
            "The ministry announced that schools would close on Friday.",
            "ministry",
            "announced",
            "schools would close on Friday",
            "indirect",
        ),
        (
            "Opposition leader Tom Reyes accused the mayor of hiding the cost of the stadium.",
            "Tom Reyes",
            "accused",
            "the mayor of hiding the cost of the stadium",
            "indirect",
        ),
        (
            "The weather service warned of flooding in the northern valleys this weekend.",
            "weather service",
            "warned",
            "flooding in the northern valleys this weekend",
            "indirect",
        ),
        (
            "The teachers' union called for an independent inquiry into the closures.",
            "teachers' union",
            "called",
            "an independent inquiry into the closures",
            "indirect",
        ),
        (
            "Finance chief Laura Berg told investors on a conference call that she expected "
            "costs to fall next year.",
            "Laura Berg",
            "told",
            "she expected costs to fall next year",
            "indirect",
        ),
        (
            "Senator Ana Ruiz answered the critics by saying the bill would cut costs.",
            "Ana Ruiz",
            "saying",
            "the bill would cut costs",
            "indirect",
        ),
        (
            "Reyes said the mayor has “deep respect” for the workers and his remark was a joke.",
            "Reyes",
            "said",
            "the mayor has “deep respect” for the workers and his remark was a joke",
            "mixed",
        ),
        (
            "A recount is unlikely; the party says it will accept the result this week.",
            "party",
            "says",
            "it will accept the result this week",
            "indirect",
        ),
        (
            "The campaign called the charges unfounded.",
            "campaign",
            "called",
            "the charges unfounded",
            "indirect",
        ),
        (
            "The senator cited figures from the treasury.",
            "senator",
            "cited",
            "figures from the treasury",
            "indirect",
        ),
        (
            "OSLO — Power prices rose sharply in southern Norway, grid operator Statnett said.",
            "Statnett",
            "said",
            "Power prices rose sharply in southern Norway",
            "indirect",
        ),
    ],
)
def test_statement_table(
    nlp: Any, text: str, speaker: str, cue: str, content: str, kind: str
) -> None:
    (statement,) = _extract(nlp, text)
    assert speaker in statement.speaker.name
    assert statement.cue == cue
    assert statement.content == content
    assert statement.kind == kind
    assert text[statement.start : statement.end] == statement.content


@pytest.mark.parametrize(
    "text",
    [
        "The minister did not say when the talks would resume.",
        "Officials declined to comment on the report.",
        "The police chief refused to discuss the case.",
        "He is said to be furious about the decision.",
        "Reporters asked what would happen next.",
        "The company makes cars in three countries.",
        "The council approved a plan to build 2,000 flats on the old docks.",
        "The two countries agreed to reopen the border crossing next month.",
        "The ministry is expected to announce new rules next week.",
        "The regulator could ask a court to halt the sale.",
        "She called her brother to wish him a happy birthday.",
        "A jury found the builder guilty of fraud on Monday.",
        "Her memoir, “Where The River Bends,” was published last year.",
        "The agency declined to comment, citing the ongoing investigation.",
    ],
)
def test_not_statements(nlp: Any, text: str) -> None:
    assert _extract(nlp, text) == []


def test_pronoun_and_surname_resolve_to_the_full_name(nlp: Any) -> None:
    text = (
        "Foreign Minister Lena Okafor said on Monday that talks would continue.\n"
        "“We are patient,” Okafor said.\n"
        "She added that a deal was close."
    )
    statements = _extract(nlp, text)
    assert len(statements) == 3
    assert {s.speaker.name for s in statements} == {"Lena Okafor"}
    assert len({s.speaker.id for s in statements}) == 1
    assert [s.speaker.mention for s in statements][-1] == "She"


def test_a_quote_without_cue_continues_the_paragraphs_speaker(nlp: Any) -> None:
    text = (
        "“The harvest was poor this year,” farmer Paul Mensah said. "
        "“We will need help from the government before winter comes.”"
    )
    statements = _extract(nlp, text)
    assert [s.kind for s in statements] == ["direct", "direct"]
    assert {s.speaker.name for s in statements} == {"Paul Mensah"}


def test_a_quote_stays_with_its_paragraph_not_the_next_reporting_clause(nlp: Any) -> None:
    # without a sentence start at the blank line, the parser runs the second quote on into
    # the next paragraph's sentence and its reporting verb takes it
    text = (
        "Marek Kowalski has driven trains for thirty years.\n\n“The trains are late every "
        "day,” he said. “Nobody in the ministry listens to the drivers.”\n\nLooking back on "
        "her own career, Ewa Nowak told the story of her first strike."
    )
    statements = _extract(nlp, text)
    quoted = [s for s in statements if "Nobody in the ministry" in s.content]
    assert quoted and {s.speaker.name for s in quoted} == {"Marek Kowalski"}
    assert all("Looking" not in s.content for s in quoted)


def test_statement_ids_are_stable(nlp: Any) -> None:
    text = "Tom Baker said the road was closed."
    first, second = _extract(nlp, text), _extract(nlp, text)
    assert [s.statement_id for s in first] == [s.statement_id for s in second]


@pytest.mark.parametrize(
    ("text", "speaker", "content"),
    [
        (
            "Readers wrote in.\n“The rent is too high for families like mine.” ― Ana Ruiz\n",
            "Ana Ruiz",
            "The rent is too high for families like mine.",
        ),
        (
            "HOST: Welcome back.\nMARLOWE: The bill will pass, and it will pass soon.\n",
            "Marlowe",
            "The bill will pass, and it will pass soon.",
        ),
    ],
    ids=["signed-quote", "transcript-turn"],
)
def test_typographic_attribution(nlp: Any, text: str, speaker: str, content: str) -> None:
    statements = _extract(nlp, text)
    assert (speaker, content) in {(s.speaker.name, s.content) for s in statements}


@pytest.mark.parametrize(
    ("text", "speaker", "content"),
    [
        (
            "The plant will close in May, the company said, and 300 jobs will go.",
            "company",
            "The plant will close in May, the company said, and 300 jobs will go",
        ),
        (
            "“Nobody expected this,” said Ruth Adeyemi, a nurse at the clinic.",
            "Ruth Adeyemi",
            "Nobody expected this",
        ),
        (
            "Ito met the envoy on Monday and said the talks had been useful.",
            "Ito",
            "the talks had been useful",
        ),
        (
            "The meeting was held in a hotel near the border between the two countries, "
            "the foreign ministry said.",
            "foreign ministry",
            "The meeting was held in a hotel near the border between the two countries",
        ),
        (
            "The vote comes after a week of protests, with Governor Lisa Moreau on Friday "
            "calling on lawmakers to delay the bill.",
            "Lisa Moreau",
            "lawmakers to delay the bill",
        ),
    ],
    ids=["parenthetical", "inverted", "conjoined-verb", "set-off-subject", "absolute-with"],
)
def test_word_order_variants(nlp: Any, text: str, speaker: str, content: str) -> None:
    statements = _extract(nlp, text)
    assert (speaker, content) in {(s.speaker.name, s.content) for s in statements}, statements


def test_doubled_apostrophe_quotes_are_direct_speech(nlp: Any) -> None:
    text = "''We have waited long enough,'' said Kofi Mensah, the union leader."
    (statement,) = _extract(nlp, text)
    assert statement.kind == "direct"
    assert statement.content == "We have waited long enough"
    assert statement.speaker.name == "Kofi Mensah"


@pytest.mark.parametrize(
    ("text", "name"),
    [
        (
            "Foreign Minister Lena Okafor arrived in Paris. The minister said the talks "
            "would resume in May.",
            "Lena Okafor",
        ),
        (
            "President Dmytro Kovalenko met the envoy. The Ukrainian president said the "
            "meeting had been useful.",
            "Dmytro Kovalenko",
        ),
        (
            "Sarah Collins, the company's chief executive, toured the plant. The executive "
            "said no jobs would be lost.",
            "Sarah Collins",
        ),
    ],
    ids=["title", "nationality", "apposition"],
)
def test_a_role_noun_phrase_resolves_to_the_person_introduced_with_it(
    nlp: Any, text: str, name: str
) -> None:
    (statement,) = _extract(nlp, text)
    assert statement.speaker.name == name
    assert statement.speaker.type == "person"


def test_an_indefinite_role_is_not_resolved(nlp: Any) -> None:
    text = "Foreign Minister Lena Okafor arrived. A minister said the talks had failed."
    (statement,) = _extract(nlp, text)
    assert statement.speaker.name != "Lena Okafor"


def test_a_thing_cited_inside_a_statement_is_not_a_source(nlp: Any) -> None:
    text = (
        "The state auditor, Ruth Amsel, said an internal review shows that no records were "
        "lost. The mayor said residents support the new budget."
    )
    found = {(s.speaker.name, s.content) for s in _extract(nlp, text)}
    assert ("Ruth Amsel", "an internal review shows that no records were lost") in found
    assert not any(name == "internal review" for name, _ in found)
    # a group inside a statement still speaks for itself
    assert ("residents", "the new budget") in found


@pytest.mark.parametrize(
    "text",
    [
        "“The river rose overnight. We lost the whole harvest, and nobody came to help,” "
        "farmer Ana Ruiz said.",
        "“The bridge is closed. Trucks must go around through the hills,” the mayor said.",
    ],
)
def test_a_quotation_of_several_sentences_is_one_direct_statement(nlp: Any, text: str) -> None:
    # the parser may hang the quotation's last clause on the cue as its complement: that
    # clause is part of the quotation, not an indirect statement of its own
    (statement,) = _extract(nlp, text)
    assert statement.kind == "direct"
    assert statement.content.startswith("The ") and statement.content.count(".") == 1


@pytest.mark.parametrize(
    ("text", "content"),
    [
        (
            "Union leader Rosa Ibarra called the offer “an insult to every nurse in the country.”",
            "an insult to every nurse in the country.",
        ),
        (
            "The transport minister condemned the blockade as “reckless and dangerous.”",
            "reckless and dangerous.",
        ),
        (
            "In a review, critic Paul Hersh described the film as “long and sentimental.”",
            "long and sentimental.",
        ),
    ],
)
def test_an_evaluation_with_a_quote_is_one_statement(nlp: Any, text: str, content: str) -> None:
    # the act and its quotation are one statement whose content is the quotation; the bare
    # object is not a second one
    (statement,) = _extract(nlp, text)
    assert statement.content == content
    assert statement.kind == "mixed"


def test_a_quote_in_a_participle_belongs_to_it_not_to_the_main_verb(nlp: Any) -> None:
    text = (
        "Mayor Jan Visser dismissed the criticism, saying the storm was “beyond anything the "
        "drains were built for.”"
    )
    statements = _extract(nlp, text)
    assert [s.cue for s in statements] == ["dismissed", "saying"]
    assert "beyond anything" not in statements[0].content


def test_a_reporting_clause_ending_in_a_colon_introduces_the_next_paragraph(nlp: Any) -> None:
    text = (
        "The mayor spoke to reporters for an hour.\n\nThe mayor added:\n\n"
        "“The bridge will reopen in May, and the ferry will run until then.”\n\n"
        "Traffic was light on Monday."
    )
    statements = _extract(nlp, text)
    assert [s.content for s in statements] == [
        "The bridge will reopen in May, and the ferry will run until then."
    ]
    assert statements[0].kind == "direct"
