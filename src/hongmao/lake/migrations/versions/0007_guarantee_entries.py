"""What ROI guarantees (对赌) owe as append-only brand-side entries: the first settlement and each restatement.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Append-only, keyed by the brand's own contract id and a sequence: seq 0 is the settlement at T+x (what is
    # owed to the brand then), each later row an adjustment by the difference when late-arriving data changes
    # what is owed. The sum of a contract's amounts is what it owes now; rows are never updated or deleted.
    op.create_table(
        "guarantee_entries",
        sa.Column("brand", sa.String, primary_key=True),
        sa.Column("guarantee_id", sa.String, primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("amount_cents", sa.BigInteger, nullable=False),
        sa.Column("owed_cents", sa.BigInteger, nullable=False),
        sa.Column("due", sa.DateTime(timezone=True), nullable=False),
        sa.Column("statement_json", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    # Contracts settled before this revision: their one settlement becomes their first entry.
    op.execute(
        "INSERT INTO guarantee_entries (brand, guarantee_id, seq, kind, amount_cents, owed_cents, due, "
        "statement_json, recorded_at) SELECT brand, guarantee_id, 0, 'settle', owed_cents, owed_cents, due, "
        "statement_json, recorded_at FROM guarantee_settlements"
    )


def downgrade() -> None:
    op.drop_table("guarantee_entries")
