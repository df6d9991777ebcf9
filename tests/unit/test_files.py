from pathlib import Path

import orjson

from streams.errors import InputError
from streams.records import Article
from streams.sources.files import read_articles
from tests.conftest import SEED


def test_txt_article_text_is_the_exact_file_content() -> None:
    (article,) = list(read_articles([SEED]))
    assert isinstance(article, Article)
    assert article.text == SEED.read_text(encoding="utf-8")
    assert article.source == SEED.name


def test_json_jsonl_and_folders(tmp_path: Path) -> None:
    (tmp_path / "one.json").write_bytes(orjson.dumps({"url": "https://x.org/a", "text": "A."}))
    (tmp_path / "many.json").write_bytes(
        orjson.dumps([{"article_id": "b", "text": "B."}, {"article_id": "c", "text": "C."}])
    )
    (tmp_path / "lines.jsonl").write_bytes(
        b'{"article_id": "d", "text": "D."}\n\n{"text": 5}\nnot json\n'
    )
    (tmp_path / "ignored.md").write_text("# not an article")
    items = list(read_articles([tmp_path]))
    articles = [i for i in items if isinstance(i, Article)]
    errors = [i for i in items if isinstance(i, InputError)]
    assert sorted(a.article_id for a in articles if len(a.article_id) == 1) == ["b", "c", "d"]
    assert len(articles) == 4
    assert len(errors) == 2
    assert all("lines.jsonl:" in str(e) for e in errors)


def test_ids_are_deterministic(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("Same text.")
    first = next(iter(read_articles([path])))
    second = next(iter(read_articles([path])))
    assert isinstance(first, Article) and isinstance(second, Article)
    assert first.article_id == second.article_id


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    import pytest

    with pytest.raises(InputError, match="no such file"):
        list(read_articles([tmp_path / "nope.txt"]))
