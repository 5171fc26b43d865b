"""Covering indexes for the dashboards, a queue index per provider, eager autovacuum on extractions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from db.migrations.sql import run_schema_files, run_sql
from schema import sql_text

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_schema_files("v0002")


def downgrade() -> None:
    run_sql(sql_text("v0002", "downgrade.sql"))
