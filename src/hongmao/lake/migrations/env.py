"""Alembic environment: migrates the connection handed over in ``config.attributes["connection"]``."""

from __future__ import annotations

from alembic import context

from hongmao.lake.catalog import VERSION_TABLE

if context.is_offline_mode():
    raise RuntimeError("the lake's catalog migrations run online only (through hongmao.lake.catalog.upgrade)")

_connection = context.config.attributes.get("connection")
if _connection is None:
    raise RuntimeError("hongmao.lake.catalog.upgrade passes the connection to migrate; none was given")

context.configure(connection=_connection, target_metadata=None, version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
