"""The Faust application: topics, tables and agents, built by :func:`create_app`."""

from streams.app.factory import StreamsApp, create_app

__all__ = ["StreamsApp", "create_app"]
