"""The Faust application: :class:`~streams.app.parts.StreamsApp` (topics, tables, agents),
built by :func:`streams.app.factory.create_app`.

Nothing is imported here: a module below (an agent, a view) that imports a sibling would
otherwise run the factory, which imports it back.
"""
