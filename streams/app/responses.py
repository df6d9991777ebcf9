"""JSON answers of the worker's HTTP API: a body, or a problem ``{status, error}``."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

JSON = "application/json"


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type=JSON, headers=headers)


def problem(status: int, detail: str, headers: dict[str, str] | None = None) -> web.Response:
    return json_response({"status": status, "error": detail}, status=status, headers=headers)
