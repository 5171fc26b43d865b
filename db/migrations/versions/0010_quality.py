"""Trust in what nobody reviews: the QA-sample flag, approvals without a reviewer, the quality settings.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from db.migrations.sql import run_schema_files, run_sql
from schema import sql_text

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_schema_files("v0010")


def downgrade() -> None:
    run_sql(sql_text("v0010", "downgrade.sql"))
