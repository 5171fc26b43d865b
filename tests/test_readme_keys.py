"""The README's key tables are the bindings: generated from them, and checked against them here.

`python -m tests.test_readme_keys` prints the tables to paste under "### Keys" after a binding changes;
the test fails, with the table it expected, whenever the README and the code disagree.
"""

from __future__ import annotations

import re
from pathlib import Path

from textual.binding import Binding
from textual.dom import DOMNode

from app.dialogs.change_password_dialog import ChangePasswordDialog
from app.dialogs.correction_dialog import CorrectionDialog
from app.dialogs.history_dialog import HistoryDialog
from app.dialogs.reason_dialog import ReasonDialog
from app.dialogs.refund_steps_dialog import RefundStepsDialog
from app.screens.admin import AdminScreen
from app.screens.audit import AuditScreen
from app.screens.chat import ChatScreen
from app.screens.dashboard import DashboardScreen
from app.screens.help import HelpScreen
from app.screens.lock import LockScreen
from app.screens.login import LoginScreen
from app.screens.queue import QueueScreen
from app.screens.refunds import RefundsScreen
from app.screens.review import ResultReviewScreen, ReviewScreen
from app.screens.rules_pane import RulesPane
from app.screens.search import SearchScreen
from app.workstation import RefundReviewApp
from widgets.choice_picker import ChoicePicker
from widgets.field_list import FieldList

README = Path(__file__).resolve().parent.parent / "README.md"
SECTIONS: dict[str, tuple[type[DOMNode], ...]] = {
    "Everywhere": (RefundReviewApp,),
    "Login": (LoginScreen,),
    "Queue": (QueueScreen,),
    "Review": (ReviewScreen, FieldList),
    "Review opened from search": (ResultReviewScreen,),
    "Correction dialog": (CorrectionDialog, ChoicePicker),
    "Reason dialog (reject, reopen)": (ReasonDialog,),
    "Search": (SearchScreen,),
    "Chat": (ChatScreen,),
    "Dashboard": (DashboardScreen,),
    "Administration": (AdminScreen, RulesPane),
    "Audit": (AuditScreen,),
    "History": (HistoryDialog,),
    "Refunds": (RefundsScreen,),
    "Refund verdict and steps": (RefundStepsDialog,),
    "Help": (HelpScreen,),
    "Change password": (ChangePasswordDialog,),
    "Lock": (LockScreen,),
}
KEY_NAMES = {"question_mark": "?", "slash": "/"}


def key_text(binding: Binding) -> str:
    return " / ".join(KEY_NAMES.get(key.strip(), key.strip()) for key in binding.key.split(","))


def section_rows(classes: tuple[type[DOMNode], ...]) -> list[str]:
    rows = []
    for cls in classes:
        for binding in cls.BINDINGS:
            if isinstance(binding, Binding) and binding.id:  # Textual's own (tab, ctrl+c) have no id
                rows.append(f"| `{key_text(binding)}` | {binding.description} | `{binding.id}` |")
    return rows


def generated() -> str:
    parts = []
    for title, classes in SECTIONS.items():
        if rows := section_rows(classes):
            parts.append(f"**{title}**\n\n| key | action | binding id |\n| --- | --- | --- |")
            parts.append("\n".join(rows))
    return "\n\n".join(f"{head}\n{rows}" for head, rows in zip(parts[::2], parts[1::2], strict=True))


def readme_sections() -> dict[str, list[str]]:
    keys = README.read_text(encoding="utf-8").split("### Keys", 1)[1]
    keys = re.split(r"\n#{1,3} ", keys, maxsplit=1)[0]
    sections: dict[str, list[str]] = {}
    for match in re.finditer(r"\*\*(?P<title>[^*]+)\*\*\n\n(?P<table>(?:\|.*\n?)+)", keys):
        rows = match["table"].strip().splitlines()[2:]
        sections[match["title"]] = rows
    return sections


def test_the_readme_key_tables_match_the_bindings() -> None:
    in_readme = readme_sections()
    expected = {title: rows for title, classes in SECTIONS.items() if (rows := section_rows(classes))}
    assert in_readme == expected, "regenerate with `python -m tests.test_readme_keys`:\n\n" + generated()


if __name__ == "__main__":
    print(generated())
