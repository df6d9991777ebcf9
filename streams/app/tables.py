"""The app's tables: plain string keys, JSON values kept as bytes, changelogs the project
configures.

- :func:`json_table` builds one (a global table when asked), with the changelog compacted and,
  given a retention, also deleted after it. Values stay the JSON bytes of their records in
  memory too (decoded by whoever reads one), not trees of dicts rebuilt at every update.
- :class:`KeyPartitioned` puts each key's changelog record in the key's partition, for a
  table written from batches that have no current event to take a partition from.
- :class:`WatchedGlobalTable` tells a listener which keys another worker's writes changed, so
  that what is built from the table (the speaker registry's index) follows it key by key.
- :class:`OneRead` reads a table with one store lookup per key.
- :func:`prefixed` reads the entries under one key prefix (a speaker's quotations).
- :class:`ScratchRocksDB` keeps a table on disk instead of in memory, rebuilt from its
  changelog at each start: for a table that grows with statements, not speakers.
- :class:`Deferred` writes a table's changelog at the consumer's commit, one record per key
  written since the last one: for a table whose keys are written again and again between
  two commits (a speaker's current hour and day, a quotation carried by many outlets).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from pathlib import Path
from typing import Any, cast

import faust
import rocksdict
from faust.stores.rocksdb import Store as RocksDBStore

from streams.app.versions import key_partition
from streams.kafka.clients import MAX_MESSAGE_BYTES
from streams.settings import Settings

#: RocksDB kept small: the table's working set is recent articles; the rest stays on disk.
ROCKSDB_OPTIONS: dict[str, int] = {
    "block_cache_size": 16 * 1024 * 1024,
    "block_cache_compressed_size": 0,
    "write_buffer_size": 8 * 1024 * 1024,
    "max_write_buffer_number": 2,
    "target_file_size_base": 16 * 1024 * 1024,
}


class ScratchRocksDB(RocksDBStore):
    """Faust's RocksDB store, whose files last one run of the worker.

    Each partition's database is deleted the first time this process opens it, so the table
    always comes back from its changelog, never from files an earlier run left: those may
    belong to another broker (a fresh one, after ``make clean`` of the broker's data only),
    and would then claim statements the new broker never counted. For the same reason it
    writes no write-ahead log: the changelog is what survives a crash, and the log cost a
    file write per key written (5.2 against 2.1 µs a put, 900-byte values, this machine).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._opened: set[int] = set()

    def partition_path(self, partition: int) -> Path:
        """One directory per worker (by its web port, which no two running workers of a
        machine share): workers that share ``STREAMS_DATA_DIR`` never open each other's
        files (RocksDB locks them; the memory store never cared)."""
        return Path(self.path) / f"{self.table_name}-{self.app.conf.web_port}-{partition}.db"

    def _open_for_partition(self, partition: int) -> Any:
        if partition not in self._opened:
            shutil.rmtree(self.partition_path(partition), ignore_errors=True)
            self._opened.add(partition)
        db = super()._open_for_partition(partition)
        unlogged = rocksdict.WriteOptions()
        unlogged.disable_wal = True  # type: ignore[method-assign,assignment]  # a property; the stub says method
        db.set_write_options(unlogged)
        return db


class OneRead(MutableMapping[str, Any]):
    """A table read with one store lookup per key: ``table.get`` asks the store twice for a
    key it has (``in``, then the value), which counts on a table read dozens of times per
    statement (the quotation index). Writes and deletions go through the table (its
    changelog)."""

    def __init__(self, table: faust.Table[str, Any]) -> None:
        self.table = table

    def __getitem__(self, key: str) -> Any:
        return self.table.data[key]

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self.table.data[key]
        except KeyError:
            return default

    def __setitem__(self, key: str, value: Any) -> None:
        self.table[key] = value

    def __delitem__(self, key: str) -> None:
        del self.table[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.table)

    def __len__(self) -> int:
        return len(self.table)


def prefixed(table: faust.Table[str, Any], prefix: str, partition: int) -> list[tuple[str, Any]]:
    """The entries of ``table`` whose keys start with ``prefix``, in key order, from its
    ``partition``: a range read of that partition's database for a table on disk (not a scan
    of the table), a filter of the entries for one in memory."""
    store = table.data
    start = prefix.encode()
    if isinstance(store, ScratchRocksDB):
        db = store._dbs.get(partition)
        if db is None:
            return []
        out = []
        for key, value in db.items(from_key=start):
            if not key.startswith(start):
                break
            out.append((key.decode(), value))
        return out
    found = [(k, v) for k, v in list(table.items()) if k.startswith(prefix) and v is not None]
    return sorted(found)


#: Keys a :class:`Deferred` table holds back at most: past this many, they are sent at once.
MAX_DEFERRED = 10_000


class Deferred(faust.Table[Any, Any]):
    """A table whose changelog records wait for the consumer's next commit: a key written
    many times between two commits goes to the changelog once, with its last value, as Kafka
    Streams' record cache does. The store is written at once, so reads see every write; the
    values held back are the store's own (bytes), at most :data:`MAX_DEFERRED` keys.

    :class:`CommitHook` calls :meth:`send_deferred` as Faust begins a commit, before it picks
    the offsets to commit and flushes the producer (``Consumer.force_commit``, then
    ``_commit_offsets``): every input offset it commits was processed before the changelog
    records that carry what it did, and those are on the broker before the commit is. A
    crash loses writes whose input was not committed either, so it is read again, and
    counted once by the marks each value keeps (see ``timeline.record``).

    A key deleted meanwhile is not sent (its tombstone went at once), nor a window Faust
    expired meanwhile (it drops them from the store without a tombstone). After a rebalance,
    keys of partitions this worker no longer owns are dropped, not sent: a held-back write
    came after the last send, so no committed offset covers it (a commit that only waits for
    one in flight commits nothing new), and the next owner reads its input again; a late
    record never overwrites the next owner's. Keys need the partition of the event being
    processed, as Faust's own table.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deferred: dict[Any, tuple[int, Any]] = {}  # key → (changelog partition, value)

    def on_key_set(self, key: Any, value: Any) -> None:
        partition = self.partition_for_key(key)
        if partition is None:  # the producer's partitioner decides: send it as Faust does
            super().on_key_set(key, value)
            return
        if key not in self._deferred and len(self._deferred) >= MAX_DEFERRED:
            self.send_deferred()  # before this key joins: it is not in the store yet
        self._deferred[key] = (partition, value)
        self._maybe_set_key_ttl(key, partition)
        self._sensor_on_set(self, key, value)

    def on_key_del(self, key: Any) -> None:
        self._deferred.pop(key, None)
        super().on_key_del(key)

    def send_deferred(self) -> int:
        """Send the changelog record of each key written since the last call, with its last
        value; how many were sent."""
        pending, self._deferred = self._deferred, {}
        if self._should_expire_keys():  # a window Faust expired meanwhile stays expired
            pending = {k: v for k, v in pending.items() if k in self.data}
        for key, (partition, value) in pending.items():
            self.send_changelog(partition, key, value)
        return len(pending)

    async def on_rebalance(
        self, assigned: Any, revoked: Any, newly_assigned: Any, generation_id: int = 0
    ) -> None:
        # the partitions of this table's changelog this worker holds as their active owner
        # now (the assignment at large also holds every partition of the global tables'
        # changelogs, and standbys)
        topic = self.changelog_topic.get_topic_name()
        active = {tp.partition for tp in self.app.assignor.assigned_actives() if tp.topic == topic}
        self._deferred = {k: v for k, v in self._deferred.items() if v[0] in active}
        await super().on_rebalance(assigned, revoked, newly_assigned, generation_id)


class CommitHook(faust.Sensor):
    """Calls ``before_commit`` each time the consumer begins a commit (Faust's sensor hook
    ``on_commit_initiated``), before it picks the offsets it commits: where
    :class:`Deferred` tables send what they held back."""

    def __init__(self, before_commit: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.before_commit = before_commit

    def on_commit_initiated(self, consumer: Any) -> None:
        self.before_commit()


class _RocksDBTable(faust.Table[str, Any]):
    def _new_store_by_url(self, url: Any) -> Any:
        return ScratchRocksDB(
            f"rocksdb:{self.name}",
            self.app,
            self,
            table_name=self.name,
            key_type=self.key_type,
            key_serializer=self.key_serializer,
            value_serializer=self.value_serializer,
            value_type=self.value_type,
            loop=self.loop,
            options=self.options,
        )


class _DeferredRocksDBTable(Deferred, _RocksDBTable):
    pass


class KeyPartitioned(faust.Table[str, Any]):
    """A table whose changelog partition is its key's, as Kafka's default partitioner gives it.

    Written from the enrich agent's batches, which have no current event to take the
    partition from; the same partition as the key's on a topic keyed the same way.
    """

    def partition_for_key(self, key: Any) -> int:
        return key_partition(str(key), self.partitions or self.app.conf.topic_partitions)


class WatchedGlobalTable(faust.GlobalTable):
    """A global table that passes the keys each changelog batch changed to ``on_change``
    (with their new values, None for a deletion)."""

    on_change: Callable[[Iterable[tuple[str, Any]]], None] | None = None

    def apply_changelog_batch(self, batch: Iterable[Any]) -> None:
        events = list(batch)
        super().apply_changelog_batch(events)
        if self.on_change is None:
            return
        keys = dict.fromkeys(self._to_key(event.key) for event in events)
        self.on_change(
            (key.decode() if isinstance(key, bytes) else key, self.data.get(key)) for key in keys
        )


def json_table(
    app: faust.App,
    settings: Settings,
    name: str,
    *,
    help: str,
    global_: bool = False,
    retention: float | None = None,
    on_disk: bool = False,
    by_key: bool = False,
    decoded: bool = False,
    deferred: bool = False,
) -> faust.Table[str, Any]:
    """A table keyed by plain strings whose values are the JSON bytes of records
    (:func:`streams.codec.dumps`), in the store as on the changelog.

    Faust derives a table's serializers from its types (json for plain types). Keys travel
    as the plain id, like the keys of the topics they come from, and values as they are: so
    the changelog topic is built here, and the table's own serializer attributes (which
    `send_changelog` and the store read) are set to match. ``retention`` (seconds): the
    changelog also deletes what was not written again for that long (and a table ``on_disk``
    forgets it too). ``by_key``: see :class:`KeyPartitioned`. ``decoded``: the store holds
    the values as orjson decodes them (plain dicts) instead. ``deferred`` (a table
    ``on_disk``): its changelog is written at commits (see :class:`Deferred`).
    """
    values = "orjson" if decoded else "raw"
    config = {"max.message.bytes": str(MAX_MESSAGE_BYTES)}
    if retention is not None:
        config["retention.ms"] = str(int(retention * 1000))
        # segments roll often enough for the retention to act
        config["segment.ms"] = str(int(max(60.0, retention / 4) * 1000))
    changelog = app.topic(
        settings.changelog_topic(name),
        key_type=str,
        value_type=None,
        key_serializer="raw",
        value_serializer=values,
        partitions=settings.partitions,
        replicas=settings.replication_factor,
        compacting=True,
        deleting=retention is not None,
        acks=False,
        internal=True,
        maxsize=131_072,
        allow_empty=True,
        config=config,
    )
    options: dict[str, Any] = {
        "default": None,
        "partitions": settings.partitions,
        "key_type": str,
        "value_type": None,
        "changelog_topic": changelog,
        # a global table is written from any stream (the enrich agent's batches have no
        # current event): its changelog partition comes from the key, not the event
        "use_partitioner": global_,
        "help": help,
    }
    if global_:
        table = app.tables.add(
            WatchedGlobalTable(
                app,
                name=name,
                beacon=app.tables.beacon,
                standby_buffer_size=1,  # as app.GlobalTable: apply changes as they come
                is_global=True,
                **options,
            )
        )
    elif by_key:
        table = app.tables.add(KeyPartitioned(app, name=name, beacon=app.tables.beacon, **options))
    elif on_disk:
        ttl = {"ttl": int(retention)} if retention is not None else {}
        kind = _DeferredRocksDBTable if deferred else _RocksDBTable
        table = app.tables.add(
            kind(
                app,
                name=name,
                beacon=app.tables.beacon,
                options={**ROCKSDB_OPTIONS, **ttl},
                **options,
            )
        )
    else:
        table = app.Table(name, **options)
    table = cast(faust.Table[str, Any], table)
    table.key_serializer = "raw"
    table.value_serializer = values
    return table
