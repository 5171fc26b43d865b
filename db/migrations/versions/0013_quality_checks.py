"""Quality: double checks of QA items, per-provider thresholds.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from db.migrations.sql import run_schema_files, run_sql
from schema import sql_text

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_schema_files("v0013")


def downgrade() -> None:
    run_sql(sql_text("v0013", "downgrade.sql"))
