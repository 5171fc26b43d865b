"""The audit log: reading and summaries, exports and their offline check, the hash chain, anchors, retention.

The screens, the commands, the benchmarks and the tests import from here; modules inside services/
import from the precise submodule instead, so that nothing goes round through this file.
"""

from services.audit.anchor_signing import AnchorSigner, TrustedKeys, load_or_create_signer, public_key_text
from services.audit.anchor_store import DirectoryAnchorStore, S3AnchorStore, open_anchor_store
from services.audit.anchors import (
    AnchorResult,
    AnchorSource,
    AnchorStatement,
    anchor_chain,
    anchor_source,
    signer_from,
)
from services.audit.chain import ChainVerification, verify_audit_chain
from services.audit.export import ExportSummary, export_audit, export_path, write_audit_file
from services.audit.export_check import ExportCheck, check_against_database, check_export_file
from services.audit.format import EXPORT_COLUMNS, EXPORT_FORMATS, ExportFormat
from services.audit.reading import (
    EVENT_TYPES,
    AuditCursor,
    AuditItem,
    AuditPage,
    audit_page,
    contract_history,
)
from services.audit.retention import (
    MIN_PARTITIONS_AHEAD,
    archive_expired_partitions,
    cleanup_sessions,
    ensure_partitions,
    run_maintenance,
)
from services.audit.summaries import summarize_event
from services.audit.verification import ExportVerification, verify_export

__all__ = [
    "EVENT_TYPES",
    "EXPORT_COLUMNS",
    "EXPORT_FORMATS",
    "MIN_PARTITIONS_AHEAD",
    "AnchorResult",
    "AnchorSigner",
    "AnchorSource",
    "AnchorStatement",
    "AuditCursor",
    "AuditItem",
    "AuditPage",
    "ChainVerification",
    "DirectoryAnchorStore",
    "ExportCheck",
    "ExportFormat",
    "ExportSummary",
    "ExportVerification",
    "S3AnchorStore",
    "TrustedKeys",
    "anchor_chain",
    "anchor_source",
    "archive_expired_partitions",
    "audit_page",
    "check_against_database",
    "check_export_file",
    "cleanup_sessions",
    "contract_history",
    "ensure_partitions",
    "export_audit",
    "export_path",
    "load_or_create_signer",
    "open_anchor_store",
    "public_key_text",
    "run_maintenance",
    "signer_from",
    "summarize_event",
    "verify_audit_chain",
    "verify_export",
    "write_audit_file",
]
