"""Least privilege: owner, application and reporting roles; audit events appended only through a checked function.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from db.migrations.sql import run_schema_files, run_sql
from schema import sql_text

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_schema_files("v0005")


def downgrade() -> None:
    run_sql(sql_text("v0005", "downgrade.sql"))
