"""Text that people type: what it may contain, and the contract id format.

Search boxes, chat questions and manifests all take free text from people or
files; control and invisible characters (NUL among them, which PostgreSQL
cannot store) are removed the same way everywhere, and contract ids are held
to the same format as the contracts_contract_id_format constraint.
"""

from __future__ import annotations

import re
import unicodedata

from services.errors import InvalidInput

# Control, format (zero-width, bidi overrides) and lone surrogate characters.
STRIPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})
CONTRACT_ID_FORMAT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def without_control_characters(text: str, *, keep: str = "", replacement: str = "") -> str:
    """`text` with control and invisible characters replaced (characters in `keep` stay)."""
    return "".join(
        ch if ch in keep or unicodedata.category(ch) not in STRIPPED_CATEGORIES else replacement
        for ch in text
    )


def contract_id(raw: str) -> str:
    """A contract id as typed, checked against the stored format; InvalidInput otherwise."""
    wanted = raw.strip()
    if not CONTRACT_ID_FORMAT.fullmatch(wanted):
        raise InvalidInput(f"{wanted[:40]!r} is not a contract id; ids look like GAP-2024-001001.")
    return wanted
