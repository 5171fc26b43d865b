"""What the models-versus-database comparison looks at.

Monthly audit partitions are created at run time and views are checked
separately, so neither belongs in Alembic's table comparison.
"""

import re
from collections.abc import MutableMapping
from typing import Any

from db.models import VIEW_NAMES

_PARTITION = re.compile(r"^audit_events_(default|y\d{4}m\d{2})$")


def include_name(
    name: str | None,
    type_: str,
    parent_names: MutableMapping[str, str | None],
) -> bool:
    """Alembic hook: skip audit partitions, views and alembic_version."""
    del parent_names
    if type_ == "table" and name is not None:
        return not (_PARTITION.match(name) or name in VIEW_NAMES or name == "alembic_version")
    return True


def describe(diff: list[Any]) -> str:
    """A readable list of differences for a failing comparison."""
    return "\n".join(repr(item) for item in diff)
