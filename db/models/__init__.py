"""SQLAlchemy models mirroring schema/ exactly.

The SQL files are the source of truth; these classes let services build
queries with `select()` instead of strings. tests/db/test_migrations.py
(test_models_match_the_migrated_database) runs Alembic's comparison against a
migrated database, so a column added in SQL and forgotten here (or the
reverse) fails the build.
"""

from db.models.audit import AuditChainHead, AuditEvent
from db.models.base import Base
from db.models.contracts import (
    ChatMessage,
    Contract,
    Correction,
    Extraction,
    ExtractionMetric,
    SystemConfig,
)
from db.models.people import AuthSecret, LoginThrottle, Session, User
from db.models.quality import QaDoubleCheck
from db.models.refunds import JurisdictionRuleRow, RefundRequest
from db.models.views import (
    VIEW_NAMES,
    DailyExtractionStatsView,
    ExtractionDetailView,
    UserActivityView,
    ViewBase,
)

__all__ = [
    "VIEW_NAMES",
    "AuditChainHead",
    "AuditEvent",
    "AuthSecret",
    "Base",
    "ChatMessage",
    "Contract",
    "Correction",
    "DailyExtractionStatsView",
    "Extraction",
    "ExtractionDetailView",
    "ExtractionMetric",
    "JurisdictionRuleRow",
    "LoginThrottle",
    "QaDoubleCheck",
    "RefundRequest",
    "Session",
    "SystemConfig",
    "User",
    "UserActivityView",
    "ViewBase",
]
