"""API keys of the REST API and the console: one row per key, the key itself never stored.

Revision ID: 0003
Revises: 0002
Create Date: 2025-06-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        # The public half of a key (``hm_<key_id>_<secret>``): found by primary key, then the secret is checked.
        sa.Column("key_id", sa.String, primary_key=True),
        sa.Column("role", sa.String, nullable=False),  # brand | operator
        sa.Column("brand", sa.String, nullable=True),  # the tenant of a brand key; NULL for operators
        sa.Column("label", sa.Text, nullable=True),
        sa.Column("salt", sa.String, nullable=False),
        sa.Column("hash", sa.String, nullable=False),  # HMAC-SHA256(salt, key), hex
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("api_keys_brand", "api_keys", ["brand"])


def downgrade() -> None:
    op.drop_index("api_keys_brand", "api_keys")
    op.drop_table("api_keys")
