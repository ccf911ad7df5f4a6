"""The settlement ledger: commission programs, append-only ledger entries and operators' hold decisions.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A brand's commission terms; a program's terms never change once entries cite it (a new id instead).
    op.create_table(
        "settle_programs",
        sa.Column("program_id", sa.String, primary_key=True),
        sa.Column("brand", sa.String, nullable=False),
        sa.Column("spec_json", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("settle_programs_brand", "settle_programs", ["brand"])
    # Append-only: rows are inserted, never updated or deleted. The id is derived from (program, order,
    # creator, kind, sequence), so a settlement re-run cannot insert the same entry twice.
    op.create_table(
        "ledger_entries",
        sa.Column("entry_id", sa.String, primary_key=True),
        sa.Column("program_id", sa.String, nullable=False),
        sa.Column("brand", sa.String, nullable=False),
        sa.Column("creator_id", sa.String, nullable=False),
        sa.Column("order_id", sa.String, nullable=False),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("from_state", sa.String, nullable=True),
        sa.Column("to_state", sa.String, nullable=False),
        sa.Column("amount_cents", sa.BigInteger, nullable=False),
        sa.Column("effective", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ref", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ledger_entries_brand_creator", "ledger_entries", ["brand", "creator_id"])
    op.create_index("ledger_entries_program", "ledger_entries", ["program_id"])
    # Operators' decisions on held commissions (release or void), with the reason: the record of who decided.
    op.create_table(
        "hold_decisions",
        sa.Column("decision_id", sa.String, primary_key=True),
        sa.Column("creator_id", sa.String, nullable=False),
        sa.Column("brand", sa.String, nullable=True),
        sa.Column("action", sa.String, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("operator", sa.String, nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("hold_decisions")
    op.drop_index("ledger_entries_program", "ledger_entries")
    op.drop_index("ledger_entries_brand_creator", "ledger_entries")
    op.drop_table("ledger_entries")
    op.drop_index("settle_programs_brand", "settle_programs")
    op.drop_table("settle_programs")
