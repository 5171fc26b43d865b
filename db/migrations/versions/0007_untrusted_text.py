"""Untrusted text: bounds and checks on stored text.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from db.migrations.sql import run_schema_files, run_sql
from schema import sql_text

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_schema_files("v0007")


def downgrade() -> None:
    run_sql(sql_text("v0007", "downgrade.sql"))
