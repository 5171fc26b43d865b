"""Trust in what nobody reviews: QA samples, automatic approval, per-field thresholds.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

import csv
import io
import json
from importlib.resources import files

from alembic import op
from sqlalchemy import text

from db.migrations.sql import run_schema_files, run_sql
from schema import sql_text

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# The starter rules are data of the refunds package, read here as a file (not imported as code, so the
# layers hold) so that the program's offline quotes and the database start from the same rows.
STARTER_RULES = ("services.refunds", "starter_rules.csv")
_INSERT = text(
    """
    INSERT INTO jurisdiction_rules (state, effective_from, free_look_days, fee_allowed, fee_cap, methods_allowed,
                                    pro_rata_basis, short_rate_factor, written_request_days, payment_due_days,
                                    citation, is_default, notes)
    SELECT state, effective_from, free_look_days, fee_allowed, fee_cap, methods_allowed, pro_rata_basis,
           short_rate_factor, written_request_days, payment_due_days, citation, is_default, notes
      FROM jsonb_populate_record(NULL::jurisdiction_rules, CAST(:row AS jsonb))
    """
)


def _starter_rows() -> list[dict[str, object]]:
    package, name = STARTER_RULES
    reader = csv.DictReader(io.StringIO(files(package).joinpath(name).read_text(encoding="utf-8")))
    rows: list[dict[str, object]] = []
    for row in reader:
        record: dict[str, object] = {
            key: value.strip() for key, value in row.items() if value and value.strip()
        }
        record["methods_allowed"] = [
            m.strip() for m in row.get("methods_allowed", "").split(";") if m.strip()
        ]
        rows.append(record)
    return rows


def upgrade() -> None:
    run_schema_files("v0010")
    bind = op.get_bind()
    for row in _starter_rows():
        bind.execute(_INSERT, {"row": json.dumps(row)})


def downgrade() -> None:
    run_sql(sql_text("v0010", "downgrade.sql"))
