"""What an audit export file is: its formats, name, version, columns and the rule its hashes follow.

Shared by the writer (export.py) and the offline check (verification.py), which must agree on it.
"""

from __future__ import annotations

from typing import Literal

ExportFormat = Literal["csv", "json", "jsonl"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("csv", "json", "jsonl")
EXPORT_FORMAT_NAME = "refund-review audit export"
EXPORT_VERSION = 1
EXPORT_COLUMNS = (
    "seq", "id", "occurred_at", "event_type", "user_id", "username", "session_id",
    "contract_id", "ip_address", "user_agent", "event_data", "prev_hash", "hash",
)  # fmt: skip
HASH_RULE = (
    "hash = sha256(prev_hash || utf8(jsonb_build_array(id, seq, occurred_at, event_type, user_id, "
    "session_id, contract_id, ip_address, user_agent, event_data)::text)); see services/audit/canonical.py"
)
