"""Alembic migrations of the lake's catalog, run in code by :func:`hongmao.lake.catalog.upgrade`.

No ``alembic.ini`` is needed: the configuration is built in code and the connection is handed to ``env.py``.
To add a revision, copy the latest file in ``versions/``, give it the next ``revision`` and set its
``down_revision`` to the previous one; change the Core tables in ``catalog.py`` to match.
"""
