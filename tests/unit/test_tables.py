"""The statement ledger's store: RocksDB files that last one run of the worker."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
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


def test_a_table_on_disk_writes_no_write_ahead_log(tmp_path: Path) -> None:
    parts = create_app(Settings(_env_file=None, data_dir=tmp_path))  # type: ignore[call-arg]
    store = parts.ledger.data
    db = store._open_for_partition(0)
    for n in range(1000):
        db.put(b"article-%d" % n, b"{}" * 100)
    db.flush_wal()
    logs = list(store.partition_path(0).glob("*.log"))
    assert logs and all(log.stat().st_size == 0 for log in logs)
    assert db.get(b"article-999") == b"{}" * 100
    db.close()


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


class _Message:
    topic = "speaker-tallies"

    def __init__(self, partition: int) -> None:
        self.partition = partition


class _Event:
    def __init__(self, partition: int) -> None:
        self.message = _Message(partition)


@pytest.fixture
def in_event() -> Iterator[Callable[[Any, int], None]]:
    """Make a partition the current event's for a table, as an agent processing one would;
    the current event is reset after the test."""
    import contextlib
    import weakref

    import faust.streams

    events: list[Any] = []  # the context holds weak references

    def enter(table: Any, partition: int) -> None:
        table._verified_source_topics_for_partitions.add(_Message.topic)
        events.append(_Event(partition))
        tokens.append(faust.streams._current_event.set(weakref.ref(events[-1])))

    tokens: list[Any] = []
    yield enter
    for token in reversed(tokens):
        with contextlib.suppress(ValueError):  # set in a task's own context, gone with it
            faust.streams._current_event.reset(token)


def _sent(table: Any, monkeypatch: Any) -> list[tuple[int | None, Any, Any]]:
    """What ``table`` sends to its changelog, recorded instead of sent."""
    sent: list[tuple[int | None, Any, Any]] = []

    def send(partition: int | None, key: Any, value: Any, *_: Any, **__: Any) -> Any:
        sent.append((partition, key, value))
        return SimpleNamespace(message=SimpleNamespace(partition=partition))

    monkeypatch.setattr(table, "send_changelog", send)
    return sent


def test_a_deferred_table_sends_each_key_once_per_commit_with_its_last_value(
    tmp_path: Path, monkeypatch: Any, in_event: Callable[[Any, int], None]
) -> None:
    parts = create_app(Settings(_env_file=None, data_dir=tmp_path))  # type: ignore[call-arg]
    hour = parts.timeline["hour"].table
    sent = _sent(hour, monkeypatch)
    in_event(hour, 2)
    a, b = ("speaker:a", (0.0, 3600.0)), ("speaker:b", (0.0, 3600.0))
    for n in range(5):
        hour[a] = b"%d" % n
    hour[b] = b"b"
    assert sent == [] and hour[a] == b"4"  # the store has every write; the changelog waits
    assert hour.send_deferred() == 2
    assert sent == [(2, a, b"4"), (2, b, b"b")]
    assert hour.send_deferred() == 0  # nothing written since
    hour[a] = b"5"
    del hour[a]  # the tombstone goes at once, and nothing after it
    assert sent[2:] == [(2, a, None)]
    assert hour.send_deferred() == 0
    hour[b] = b"c"
    hour.data.pop(b)  # expired, as Faust drops a window 30 days behind: not sent again
    assert hour.send_deferred() == 0 and len(sent) == 3


def test_a_commit_sends_what_the_quotation_steps_tables_held_back(
    tmp_path: Path, monkeypatch: Any
) -> None:
    parts = create_app(Settings(_env_file=None, data_dir=tmp_path))  # type: ignore[call-arg]
    tables = [parts.quotations, parts.timeline["hour"].table, parts.timeline["day"].table]
    sent = [_sent(table, monkeypatch) for table in tables]
    for table in tables:
        table._deferred["k"] = (1, b"v")  # as a write in partition 1 leaves it
    for window in parts.timeline.values():
        window.table.data["k"] = b"v"  # the windows' store too (expired ones are not sent)
    before = parts.metrics.quotation_seconds
    parts.app.sensors.on_commit_initiated(parts.app.consumer)  # Faust, as a commit begins
    assert sent == [[(1, "k", b"v")]] * 3
    assert parts.metrics.quotation_seconds > before  # timed as part of the quotation step


async def test_a_rebalance_drops_what_partitions_now_owned_elsewhere_held_back(
    tmp_path: Path, monkeypatch: Any, in_event: Callable[[Any, int], None]
) -> None:
    from faust.types import TP

    settings = Settings(_env_file=None, data_dir=tmp_path, partitions=4)  # type: ignore[call-arg]
    parts = create_app(settings)
    day = parts.timeline["day"].table
    sent = _sent(day, monkeypatch)
    for partition in (0, 1, 2, 3):
        in_event(day, partition)
        day[(f"speaker:{partition}", (0.0, 86400.0))] = b"x"
    # what Faust's assignor gives a worker that keeps partitions 0 and 2 (1 now a standby,
    # 3 gone): its sources and their changelogs, every partition of the global tables'
    # changelogs (as actives and standbys), the standby's changelog partition
    changelog = day.changelog_topic.get_topic_name()
    tallies = settings.internal_topic("speaker-tallies")
    registry = settings.changelog_topic("speaker-registry")
    actives = {TP(t, p) for t in (tallies, changelog) for p in (0, 2)}
    actives |= {TP(registry, p) for p in range(4)}
    monkeypatch.setattr(parts.app.assignor, "assigned_actives", lambda: actives)
    assigned = actives | {TP(changelog, 1)}
    await day.on_rebalance(
        assigned=assigned,
        revoked={TP(tallies, 1), TP(tallies, 3), TP(changelog, 3)},
        newly_assigned=set(),
    )
    day.send_deferred()
    assert sorted(p for p, _, _ in sent) == [0, 2]


def test_held_back_keys_past_the_bound_are_sent_and_none_is_lost(
    tmp_path: Path, monkeypatch: Any, in_event: Callable[[Any, int], None]
) -> None:
    from streams.app import tables

    monkeypatch.setattr(tables, "MAX_DEFERRED", 2)
    parts = create_app(Settings(_env_file=None, data_dir=tmp_path))  # type: ignore[call-arg]
    hour = parts.timeline["hour"].table
    sent = _sent(hour, monkeypatch)
    in_event(hour, 0)
    keys = [(f"speaker:{n}", (0.0, 3600.0)) for n in range(5)]
    for key in keys:
        hour[key] = key[0].encode()
    assert [k for _, k, _ in sent] == keys[:4]  # sent two by two as the bound is passed
    hour.send_deferred()
    assert [(k, v) for _, k, v in sent] == [(k, k[0].encode()) for k in keys]


def test_faust_begins_a_commit_with_the_hook_and_flushes_before_committing() -> None:
    """What :class:`~streams.app.tables.Deferred` relies on, in Faust's own order."""
    import inspect

    from faust.transport.consumer import Consumer

    force = inspect.getsource(Consumer.force_commit)
    assert force.index("sensors.on_commit_initiated") < force.index("self._commit_tps(")
    commit_tps = inspect.getsource(Consumer._commit_tps)
    assert commit_tps.index("_filter_committable_offsets") < commit_tps.index("await ")
    offsets = inspect.getsource(Consumer._commit_offsets)
    assert offsets.index("await self.app.producer.flush()") < offsets.index("self._commit(")
