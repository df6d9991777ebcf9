"""The statement ledger's store: RocksDB files that last one run of the worker."""

from __future__ import annotations

from pathlib import Path

from rocksdict import Options, Rdict

from streams.app.factory import create_app
from streams.settings import Settings


def test_the_ledger_comes_back_from_its_changelog_never_from_old_files(tmp_path: Path) -> None:
    parts = create_app(Settings(_env_file=None, data_dir=tmp_path))  # type: ignore[call-arg]
    store = parts.ledger.data
    path = store.partition_path(0)
    path.parent.mkdir(parents=True, exist_ok=True)
    old = Rdict(str(path), options=Options(raw_mode=True))  # what an earlier run left
    old[b"article-1"] = b'{"statements": {}}'
    old.close()
    db = store._open_for_partition(0)
    assert db.get(b"article-1") is None
    db.put(b"article-2", b"{}")
    db.close()
    again = store._open_for_partition(0)  # opened again in the same run (a rebalance): kept
    assert again.get(b"article-2") == b"{}"
    again.close()


def test_every_table_changelog_is_declared_before_faust_starts(tmp_path: Path) -> None:
    from streams.kafka.clients import changelog_specs

    settings = Settings(_env_file=None, data_dir=tmp_path, partitions=6)  # type: ignore[call-arg]
    parts = create_app(settings)
    specs = {spec.name: spec for spec in changelog_specs(settings, parts.app.tables.values())}
    names = ("speakers", "statement-ledger", "speaker-registry", "speaker-aliases")
    assert {settings.changelog_topic(n) for n in names} <= set(specs)
    assert len(specs) == len(parts.app.tables)
    for spec in specs.values():
        assert spec.num_partitions == 6
        assert "compact" in spec.topic_configs["cleanup.policy"].split(",")
    ledger = specs[settings.changelog_topic("statement-ledger")].topic_configs
    assert ledger["cleanup.policy"] == "compact,delete"
    assert int(ledger["retention.ms"]) == int(settings.dedupe_retention * 1000)
