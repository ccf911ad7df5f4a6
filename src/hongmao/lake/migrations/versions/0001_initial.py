"""The initial catalog: segments, event ids, counters, meta.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "segments",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String, nullable=False, unique=True),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.Column("first_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("counts_json", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        # AUTOINCREMENT: a rolled-back segment number is never handed out again.
        sqlite_autoincrement=True,
    )
    op.create_table(
        "event_ids",
        sa.Column("id", sa.String, primary_key=True),
        # No foreign key to segments: both are written in one transaction, and the per-row check would
        # triple the cost of a batch's ids on PostgreSQL.
        sa.Column("segment", sa.Integer, nullable=False),
        # The id is the only key: without a rowid SQLite keeps one b-tree instead of two.
        sqlite_with_rowid=False,
    )
    counters = op.create_table(
        "counters",
        sa.Column("name", sa.String, primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "meta",
        sa.Column("key", sa.String, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.bulk_insert(counters, [{"name": "rejected", "value": 0}, {"name": "rejects_bytes", "value": 0}])


def downgrade() -> None:
    op.drop_table("meta")
    op.drop_table("counters")
    op.drop_table("event_ids")
    op.drop_table("segments")
