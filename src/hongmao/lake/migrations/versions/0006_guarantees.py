"""ROI guarantees (对赌) and their settlements, and the trust flags each settlement date saw.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A brand's ROI guarantee; its terms (with the resolved x and spend) never change once stored. The id is
    # the brand's own (brand, guarantee_id): two brands may use the same id, and neither learns of the other's.
    op.create_table(
        "guarantees",
        sa.Column("brand", sa.String, primary_key=True),
        sa.Column("guarantee_id", sa.String, primary_key=True),
        sa.Column("campaign_id", sa.String, nullable=False),
        sa.Column("spec_json", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    # Append-only: one settlement per guarantee (brand, guarantee_id), inserted once; a re-run reads it back.
    op.create_table(
        "guarantee_settlements",
        sa.Column("brand", sa.String, primary_key=True),
        sa.Column("guarantee_id", sa.String, primary_key=True),
        sa.Column("due", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owed_cents", sa.BigInteger, nullable=False),
        sa.Column("statement_json", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    # The creators the trust guard held at a settlement date, computed once from the events before it and
    # kept: settling through that date again, later, holds the same creators with the same evidence.
    op.create_table(
        "trust_snapshots",
        sa.Column("as_of", sa.String, primary_key=True),
        sa.Column("holds_json", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("trust_snapshots")
    op.drop_table("guarantee_settlements")
    op.drop_table("guarantees")
