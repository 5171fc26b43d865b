"""Triage loop.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from db.migrations.sql import run_schema_files, run_sql
from schema import sql_text

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_schema_files("v0008")


def downgrade() -> None:
    run_sql(sql_text("v0008", "downgrade.sql"))
