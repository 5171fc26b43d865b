"""The database URL from a file only the service user can read (--database-url-file), and the pooler flag."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from db.url import DatabaseURLError, asyncpg_connect_args, pooler, to_async_url
from services.settings import load_settings

URL = "postgresql://rr:secret@db.internal:5432/refund_review"


def test_the_url_is_the_files_first_line(tmp_path: Path) -> None:
    url_file = tmp_path / "database-url"
    url_file.write_text(URL + "\n# written by the installer\n")
    url_file.chmod(0o600)
    assert load_settings(database_url_file=url_file).database_url == URL


@pytest.mark.parametrize(
    ("mode", "content", "given", "refusal"),
    [
        (0o604, URL, None, "open to every user of this host"),
        (0o600, "\n", None, "is empty"),
        (0o600, URL, "postgresql://other/db", "not both"),
    ],
)
def test_a_file_others_can_read_an_empty_one_or_a_second_url_is_refused(
    tmp_path: Path, mode: int, content: str, given: str | None, refusal: str
) -> None:
    url_file = tmp_path / "database-url"
    url_file.write_text(content)
    url_file.chmod(mode)
    with pytest.raises(ValidationError, match=refusal):
        load_settings(database_url_file=url_file, database_url=given)


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="cannot be read"):
        load_settings(database_url_file=tmp_path / "nowhere")


def test_the_pooler_flag_is_ours_and_checked() -> None:
    url = to_async_url(URL + "?pooler=pgbouncer-transaction&sslmode=require")
    assert pooler(url) == "pgbouncer-transaction" and pooler(to_async_url(URL)) is None
    args = asyncpg_connect_args(url)
    assert "pooler" not in args and args["ssl"] == "require" and args["statement_cache_size"] == 0
    with pytest.raises(DatabaseURLError, match="pooler= must be one of: pgbouncer-transaction"):
        to_async_url(URL + "?pooler=pgpool")
