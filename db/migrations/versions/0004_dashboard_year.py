"""The dashboard's year-long periods: a covering index of corrections by time, statistics on the
confidence buckets.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from db.migrations.sql import run_schema_files, run_sql
from schema import sql_text

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_schema_files("v0004")


def downgrade() -> None:
    run_sql(sql_text("v0004", "downgrade.sql"))
