"""JSON on the wire, encoded with orjson.

``dumps``/``loads`` turn records into bytes and back; :class:`OrjsonCodec` is the same for
Faust (registered as ``"orjson"``, used by the tables' changelogs).
"""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from pydantic import ValidationError

from streams.errors import InputError, RecordError
from streams.records import Record

R = TypeVar("R", bound=Record)


def dumps(record: Record) -> bytes:
    """Encode a record as compact JSON."""
    return orjson.dumps(record.model_dump(mode="json"))


def loads_json(data: bytes | str) -> Any:
    """Parse JSON, raising :class:`InputError` with a readable reason."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"not valid JSON (or not UTF-8): {exc}") from exc


def validate(model: type[R], obj: Any) -> R:
    """Build ``model`` from parsed JSON, raising :class:`RecordError` naming the bad fields."""
    try:
        return model.model_validate(obj)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
            for err in exc.errors()[:5]
        )
        raise RecordError(f"not a valid {model.__name__}: {problems}") from exc


def loads(model: type[R], data: bytes | str) -> R:
    """Decode and validate one record."""
    return validate(model, loads_json(data))


def register_faust_codec() -> None:
    """Register :class:`OrjsonCodec` with Faust under the name ``orjson`` (idempotent)."""
    from faust.serializers import codecs

    class OrjsonCodec(codecs.Codec):
        def _dumps(self, obj: Any) -> bytes:
            return orjson.dumps(obj)

        def _loads(self, s: bytes) -> Any:
            return orjson.loads(s)

    codecs.register("orjson", OrjsonCodec())
