"""One-line summaries of audit events, written for a person beside the raw `event_data`.

The history pane of the review screen and the audit screen both show them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from services.domain import FIELD_LABELS

SUMMARY_MAX = 160


def _value(data: dict[str, Any], *keys: str) -> Any:
    """The first of `keys` that the event carries: event shapes grew over time."""
    for key in keys:
        if data.get(key) is not None:
            return data[key]
    return None


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _with(text: str, detail: Any, template: str = " ({})") -> str:
    return text + template.format(_shown(detail)) if detail not in (None, "") else text


def _change(data: dict[str, Any]) -> str:
    old = _value(data, "old", "old_value", "original_value", "from")
    new = _value(data, "new", "new_value", "corrected_value", "to")
    return f"{_shown(old)} → {_shown(new)}"


def _correct(data: dict[str, Any]) -> str:
    field = _value(data, "field", "field_name")
    label = FIELD_LABELS.get(field, field) if isinstance(field, str) else _shown(field)
    return _with(f"corrected {label} {_change(data)}", _value(data, "reason_code", "reason"))


def _user(data: dict[str, Any]) -> str:
    return _shown(_value(data, "username", "target_username", "user"))


def _changes(data: dict[str, Any]) -> str:
    """`{"role": {"old": "reviewer", "new": "supervisor"}}` as "role reviewer → supervisor"."""
    changes = _value(data, "changes", "changed")
    if not isinstance(changes, dict):
        return _shown(changes)
    return ", ".join(
        f"{name} {_change(change)}" if isinstance(change, dict) else f"{name} {_shown(change)}"
        for name, change in changes.items()
    )


def _reopen(data: dict[str, Any]) -> str:
    if data.get("undo"):
        undone = {"approved": "approval", "rejected": "rejection"}.get(
            data.get("previous_status", ""), "decision"
        )
        return f"undid their {undone}"
    return _with(f"reopened ({_shown(data.get('previous_status'))})", data.get("reason"), ": {}")


def _verified(data: dict[str, Any]) -> str:
    if data.get("intact") is False and data.get("broken_at") is None:
        return f"verified the audit chain: NOT VERIFIED, {_shown(data.get('problems'))} problems"
    if data.get("intact") is False:
        return f"verified the audit chain: BROKEN at #{_shown(data.get('broken_at'))}"
    return f"verified the audit chain: intact, {_shown(data.get('events_verified'))} events"


def _counted(count: Any, one: str, many: str) -> str:
    """`1 result`, `3 results`; a count the event does not carry as a number is shown as it is."""
    return f"{count:,} {one if count == 1 else many}" if isinstance(count, int) else f"{_shown(count)} {many}"


def _searched(data: dict[str, Any]) -> str:
    """The matches the reviewer was told of and the rows shown, which differ when results come in pages."""
    said = f'searched "{_shown(_value(data, "query", "text"))}"'
    matches, shown = data.get("matches"), data.get("results")
    if matches is not None and matches != shown:
        return f"{said} ({_counted(matches, 'match', 'matches')}, {_shown(shown)} shown)"
    return _with(said, None if shown is None else _counted(shown, "result", "results"))


# A question and its answer are two events of one type: each says which it is.
_CHAT_STAGES = {
    "asked": "asked about the contract",
    "answered": "answer given about the contract",
    "failed": "question about the contract not answered",
}


def _chat(data: dict[str, Any]) -> str:
    said = _CHAT_STAGES.get(data.get("stage") or "asked", "asked about the contract")
    return _with(said, _value(data, "question"), ': "{}"')


def _archived(data: dict[str, Any]) -> str:
    count = data.get("row_count")
    seqs = f", #{data.get('first_seq')}..#{data.get('last_seq')}" if count else ""
    return f"archived audit partition {_shown(data.get('partition'))}: {_shown(count)} events{seqs}"


_SUMMARIES: dict[str, Callable[[dict[str, Any]], str]] = {
    "login": lambda d: "unlocked the workstation" if d.get("method") == "unlock" else "logged in",
    "login_failed": lambda d: _with(f"failed login as {_user(d)}", _value(d, "reason")),
    "logout": lambda d: _with("logged out", _value(d, "reason")),
    "session_expired": lambda d: _with("session ended", _value(d, "reason")),
    "account_locked": lambda d: _with(
        f"account {_user(d)} locked", _value(d, "failed_count", "failures"), " after {} failed logins"
    ),
    "password_changed": lambda d: "changed the password",
    "password_reset": lambda d: f"reset the password of {_user(d)}",
    "user_created": lambda d: _with(f"created user {_user(d)}", _value(d, "role")),
    "user_updated": lambda d: f"updated user {_user(d)}: {_changes(d)}",
    "user_deactivated": lambda d: f"deactivated user {_user(d)}",
    "user_reactivated": lambda d: f"reactivated user {_user(d)}",
    "user_unlocked": lambda d: f"unlocked user {_user(d)}",
    "search": _searched,
    "view": lambda d: "opened the contract",
    "claim": lambda d: "resumed the review" if d.get("resumed") else "claimed for review",
    "release": lambda d: _with("released the claim", _value(d, "reason")),
    "correct": _correct,
    "approve": lambda d: "approved",
    "reject": lambda d: _with("rejected", _value(d, "reason", "rejection_reason")),
    "reopen": _reopen,
    "extract": lambda d: _with(
        f"extracted with {_shown(_value(d, 'provider', 'llm_provider'))}",
        _value(d, "min_confidence"),
        ", lowest confidence {}",
    ),
    "extract_failed": lambda d: _with(
        f"extraction failed with {_shown(_value(d, 'provider', 'llm_provider'))}", _value(d, "error"), ": {}"
    ),
    "ingest": lambda d: _with("ingested", _value(d, "source", "s3_key", "path"), " {}"),
    "chat": _chat,
    "config_changed": lambda d: f"changed {_shown(d.get('key'))} {_change(d)}",
    "audit_verified": _verified,
    "audit_exported": lambda d: (
        f"exported {_shown(d.get('count'))} events ({_shown(d.get('since'))} – {_shown(d.get('until'))})"
        f" as {_shown(d.get('format'))}"
    ),
    "partition_created": lambda d: f"created audit partition {_shown(d.get('partition'))}",
    "partition_archived": _archived,
    "sessions_cleaned": lambda d: f"removed {_shown(d.get('removed'))} expired sessions",
    "metrics_refreshed": lambda d: _with("refreshed the metrics", _value(d, "days"), " ({} days)"),
    "seed": lambda d: _with("seeded demo data", _value(d, "contracts"), ": {} contracts"),
    "refund_requested": lambda d: (
        f"requested a refund ({_shown(d.get('reason'))}): {_shown(d.get('verdict'))}"
        + (f", {_shown(d.get('refund'))}" if d.get("refund") is not None else "")
    ),
    "refund_approved": lambda d: (
        f"approved the refund of {_shown(d.get('refund'))}"
        + (" (first of two approvals)" if d.get("stage") == "first" else "")
    ),
    "refund_paid": lambda d: _with(
        f"marked the refund of {_shown(d.get('refund'))} paid", _value(d, "reference"), ", reference {}"
    ),
    "refund_rejected": lambda d: _with(
        f"rejected the refund request ({_shown(d.get('refund'))})", _value(d, "reason"), ": {}"
    ),
    "refunds_exported": lambda d: (
        f"exported {_shown(d.get('count'))} approved refunds as {_shown(d.get('format'))} (cursor {_shown(d.get('cursor'))})"
    ),
    "auto_approve": lambda d: _with("approved automatically", _value(d, "thresholds"), ", thresholds {}"),
    "qa_double_check": lambda d: _with(
        "sent the QA item back for a second reviewer", _value(d, "rate"), " (rate {})"
    ),
    "rules_changed": lambda d: (
        f"changed the jurisdiction rules from {_shown(d.get('source'))}: "
        f"{len(d.get('added') or [])} added, {len(d.get('changed') or [])} changed"
    ),
}


def summarize_event(event_type: str, data: dict[str, Any]) -> str:
    """One line for a person; unknown shapes fall back to the event's own keys and values."""
    summary = _SUMMARIES.get(event_type)
    line = (
        summary(data)
        if summary
        else event_type.replace("_", " ") + "".join(f" {k}={_shown(v)}" for k, v in data.items())
    )
    line = " ".join(line.split())
    return line if len(line) <= SUMMARY_MAX else line[: SUMMARY_MAX - 1] + "…"
