"""Refund decisions: term, state and APR on extractions; jurisdiction rules; refund requests.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from db.migrations.sql import run_schema_files, run_sql
from schema import sql_text

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_schema_files("v0009")


def downgrade() -> None:
    run_sql(sql_text("v0009", "downgrade.sql"))
