"""Move the default Anthropic model off claude-sonnet-4-5, which reaches its end of life.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from db.migrations.sql import run_schema_files, run_sql
from schema import sql_text

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_schema_files("v0003")


def downgrade() -> None:
    run_sql(sql_text("v0003", "downgrade.sql"))
