"""The rejects already recorded, by key, so a re-ingested file does not append (and count) its rejects again.

Revision ID: 0004
Revises: 0003
Create Date: 2025-06-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A digest of what a reject says (file, line, id, type, problems); see hongmao.lake.rejects.key. A lake
    # upgraded from 0003 starts with none: rejects recorded before are not recognised when they come again.
    op.create_table("reject_keys", sa.Column("key", sa.String, primary_key=True), sqlite_with_rowid=False)


def downgrade() -> None:
    op.drop_table("reject_keys")
