"""The database schema as SQL files, one folder per migration version.

The SQL here is the source of truth; `db/migrations` applies it and
`db/models/` mirrors it (a test compares the two).
"""

from importlib.resources import files


def sql_text(version: str, name: str) -> str:
    """The text of one schema file, e.g. sql_text("v0001", "01_tables.sql")."""
    return files(__name__).joinpath(version, name).read_text(encoding="utf-8")


def sql_files(version: str) -> list[str]:
    """The numbered files of a version, in the order they apply."""
    folder = files(__name__).joinpath(version)
    return sorted(p.name for p in folder.iterdir() if p.name[:2].isdigit() and p.name.endswith(".sql"))
