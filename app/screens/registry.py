"""Which screen opens each main area (the App's modes)."""

from __future__ import annotations

from textual.screen import Screen


def area_screen(mode: str) -> Screen:
    """A fresh screen for an area; imported late so start-up loads only the login screen."""
    if mode == "queue":
        from app.screens.queue import QueueScreen

        return QueueScreen()
    if mode == "search":
        from app.screens.search import SearchScreen

        return SearchScreen()
    if mode == "dashboard":
        from app.screens.dashboard import DashboardScreen

        return DashboardScreen()
    if mode == "admin":
        from app.screens.admin import AdminScreen

        return AdminScreen()
    if mode == "audit":
        from app.screens.audit import AuditScreen

        return AuditScreen()
    if mode == "refunds":
        from app.screens.refunds import RefundsScreen

        return RefundsScreen()
    raise ValueError(f"unknown area {mode!r}")
