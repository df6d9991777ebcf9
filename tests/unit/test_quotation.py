import pytest

from streams.nlp.quotation import RUN, identify, quote, quoted, segments

FULL = "We will rebuild every bridge on the river before the first snow falls this winter."


class Index:
    """One speaker's index, as the aggregate keeps it."""

    def __init__(self, speaker: str = "person:ada-lindqvist") -> None:
        self.speaker = speaker
        self.keys: dict[str, str] = {}

    def see(self, text: str) -> str:
        qid, new = identify(self.speaker, text, self.keys.get)
        for key in new:
            self.keys[key] = qid
        return qid


def test_words_fold_case_punctuation_quote_marks_and_apostrophes() -> None:
    assert segments("“Don’t STOP,” she—said!") == (("dont", "stop", "she", "said"),)
    assert segments('"Don\'t stop," she said') == (("dont", "stop", "she", "said"),)


@pytest.mark.parametrize("gap", ["...", "…", ". . .", "[...]", "(…)"])
def test_an_ellipsis_is_a_gap(gap: str) -> None:
    assert segments(f"we will rebuild {gap} before the snow") == (
        ("we", "will", "rebuild"),
        ("before", "the", "snow"),
    )


@pytest.mark.parametrize(
    "copy",
    [
        FULL,
        FULL.upper(),
        "“We will rebuild every bridge on the river — before the first snow falls this winter”",
        "We will rebuild every bridge … before the first snow falls this winter.",
        "every bridge on the river before the first",  # a part of six words
        "rebuild every bridge on the river",
    ],
)
def test_copies_of_one_quote_share_its_id(copy: str) -> None:
    index = Index()
    first = index.see(FULL)
    assert index.see(copy) == first


@pytest.mark.parametrize(
    "other",
    [
        "every bridge on the river",  # five words: under the run
        "We will rebuild every road on the coast before the first rain.",
        "We will rebuild … the first snow",  # no six words in one run
    ],
)
def test_fewer_than_six_shared_words_in_a_run_is_another_quotation(other: str) -> None:
    index = Index()
    first = index.see(FULL)
    assert index.see(other) != first


def test_another_speaker_has_other_quotations() -> None:
    mine, theirs = Index("person:ada-lindqvist"), Index("person:omar-feld")
    assert mine.see(FULL) != theirs.see(FULL)


def test_short_quotes_match_only_the_same_words() -> None:
    index = Index()
    short = index.see("Not now.")
    assert index.see("“not NOW”") == short
    assert index.see("Not ever.") != short
    assert len(quote("Not now.").keys) == 1


def test_a_partial_quote_seen_first_grows_with_the_full_one() -> None:
    index = Index()
    part = index.see("every bridge on the river before the first")
    assert index.see(FULL) == part
    # the full quote's other words are known now: a part that only the full one had matches
    assert index.see("the first snow falls this winter") == part


def test_ids_are_stable_across_runs() -> None:
    assert Index().see(FULL) == Index().see(FULL)
    assert len(quote(FULL).keys) == len(segments(FULL)[0]) - RUN + 1


@pytest.mark.parametrize(
    ("content", "kind", "words"),
    [
        (
            'the town would rebuild "every bridge on the river" soon',
            "mixed",
            "every bridge on the river",
        ),
        ("he said “not now” and “not here”", "mixed", "not now … not here"),
        ("such talks could not be “taken under duress", "mixed", "taken under duress"),
        ("the town would rebuild every bridge", "indirect", None),
        ("the town would rebuild every bridge", "mixed", None),
        ("We will rebuild", "direct", "We will rebuild"),
    ],
)
def test_a_mixed_statement_is_quoted_by_its_words_in_quotation_marks(
    content: str, kind: str, words: str | None
) -> None:
    assert quoted(content, kind) == words


class CountingStore(dict[str, bytes]):
    """A speaker index as the quotation agent reads it, counting lookups."""

    lookups = 0

    def get(self, key: str, default: bytes | None = None) -> bytes | None:  # type: ignore[override]
        self.lookups += 1
        return super().get(key, default)


def test_the_same_words_again_cost_one_lookup_and_keep_their_id() -> None:
    from streams.app.quotations import identify_in

    store = CountingStore()
    first = identify_in(store, "person:ada-lindqvist", FULL)
    assert store.lookups == len(quote(FULL).keys) + 1  # the whole words, then each shingle
    store.lookups = 0
    assert identify_in(store, "person:ada-lindqvist", f"“{FULL.upper()}”") == first
    assert store.lookups == 1
    # a part is no repeat of the whole: it is matched through its shingles
    store.lookups = 0
    part = "will rebuild every bridge on the river before"
    assert identify_in(store, "person:ada-lindqvist", part) == first
    assert store.lookups == len(quote(part).keys) + 1


def test_the_whole_words_key_gives_the_id_the_shingles_vote_for() -> None:
    """Quotes that overlap several known quotations, each seen again later: the ids through
    the whole-words key are the ids the shingle vote alone gives, in every order."""
    import itertools

    from streams.app.quotations import identify_in

    texts = [
        FULL,
        "Every bridge on the river will be open to traffic by the spring, the minister added.",
        "We will rebuild every bridge on the river and every road on the coast as well.",
        "open to traffic by the spring and the first snow falls this winter on every road",
        "and every road on the coast as well as every bridge on the river will be open",
    ]
    for order in itertools.permutations(texts):
        reference, store = Index(), CountingStore()
        for text in (*order, *reversed(order)):
            assert identify_in(store, reference.speaker, text) == reference.see(text)
