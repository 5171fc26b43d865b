"""The permission table: what each role may do, in one place.

Every service call names the permission it needs; tests walk this table
against every call, so a role's rights are read here and nowhere else.
"""

from __future__ import annotations

from enum import StrEnum

from services.context import Actor
from services.errors import Forbidden


class Permission(StrEnum):
    VIEW_QUEUE = "see the review queue"
    SEARCH = "search contracts"
    VIEW_CONTRACT = "open contracts"
    CLAIM = "claim queue items"
    CORRECT = "correct extracted fields"
    DECIDE = "approve or reject extractions"
    CHAT = "ask questions about contracts"
    CHANGE_OWN_PASSWORD = "change your own password"
    REOPEN = "reopen decided extractions"
    VIEW_DASHBOARD = "see the dashboards"
    VIEW_ALL_ACTIVITY = "see every user's activity"
    VIEW_AUDIT = "read the audit log"
    EXPORT_AUDIT = "export the audit log"
    RUN_EXTRACTION = "run extractions"
    MANAGE_USERS = "manage users"
    MANAGE_CONFIG = "change the system configuration"
    MAINTAIN = "run database maintenance"
    REQUEST_REFUND = "open refund requests"
    APPROVE_REFUND = "approve refunds"
    REJECT_REFUND = "reject refund requests"
    PAY_REFUND = "mark refunds paid"
    EXPORT_REFUNDS = "export refunds for payment"


_REVIEWER = frozenset(
    {
        Permission.VIEW_QUEUE,
        Permission.SEARCH,
        Permission.VIEW_CONTRACT,
        Permission.CLAIM,
        Permission.CORRECT,
        Permission.DECIDE,
        Permission.CHAT,
        Permission.CHANGE_OWN_PASSWORD,
        Permission.REQUEST_REFUND,
    }
)
_SUPERVISOR = _REVIEWER | {
    Permission.REOPEN,
    Permission.VIEW_DASHBOARD,
    Permission.VIEW_ALL_ACTIVITY,
    Permission.VIEW_AUDIT,
    Permission.EXPORT_AUDIT,
    Permission.RUN_EXTRACTION,
    Permission.APPROVE_REFUND,
    # Rejecting is the other answer to the same question as approving: the same people give it.
    Permission.REJECT_REFUND,
    Permission.PAY_REFUND,
    Permission.EXPORT_REFUNDS,
}
_ADMIN = frozenset(Permission)

ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "reviewer": _REVIEWER,
    "supervisor": _SUPERVISOR,
    "admin": _ADMIN,
    # The command-line operator already holds the database credentials.
    "system": _ADMIN,
}


def allowed(actor: Actor, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS.get(actor.role, frozenset())


def require(actor: Actor, permission: Permission) -> None:
    """Raise Forbidden unless the actor's role grants the permission."""
    if not allowed(actor, permission):
        raise Forbidden(f"Your role ({actor.role}) may not {permission.value}. Ask a supervisor or an admin.")
