"""Sessions and passwords: temporary passwords, throttled logins, keyed username digests, hidden hashes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from db.migrations.sql import run_schema_files, run_sql
from schema import sql_text

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_schema_files("v0006")


def downgrade() -> None:
    run_sql(sql_text("v0006", "downgrade.sql"))
