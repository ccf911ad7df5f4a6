"""Shoppable links: link records with their share codes, and revocations.

Revision ID: 0002
Revises: 0001
Create Date: 2025-06-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "links",
        sa.Column("link_id", sa.String, primary_key=True),
        # The code a person copies (口令); unique, so it resolves to exactly one link.
        sa.Column("share_code", sa.String, nullable=False, unique=True),
        sa.Column("token", sa.Text, nullable=False),
        sa.Column("market", sa.String, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("note_id", sa.String, nullable=False),
        sa.Column("item_id", sa.String, nullable=False),
        sa.Column("creator_id", sa.String, nullable=True),
        sa.Column("campaign_id", sa.String, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "link_revocations",
        # The redirect polls "seq > last seen" every second; AUTOINCREMENT never reuses a number.
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("link_id", sa.String, nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("link_revocations")
    op.drop_table("links")
