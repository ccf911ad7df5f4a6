"""Payments of what ROI guarantees (对赌) owe the brands: append-only rows, one per contract and payout batch.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Keyed by the brand's own contract id and a sequence, beside guarantee_entries (what is owed): what is still
    # to pay is the sum of a contract's entries less the sum of its payments. Rows are never updated or deleted;
    # ``batch`` names the payout file that paid it.
    op.create_table(
        "guarantee_payments",
        sa.Column("brand", sa.String, primary_key=True),
        sa.Column("guarantee_id", sa.String, primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("amount_cents", sa.BigInteger, nullable=False),
        sa.Column("batch", sa.String, nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("guarantee_payments")
