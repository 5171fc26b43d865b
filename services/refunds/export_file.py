"""Approved refunds exported to a file (the Refunds screen's `e`): the same export as `refunds export`.

The file is written while the export's transaction is still open, beside its final name, and put in
place only once the refunds are marked exported and the event recorded: a failed write leaves every
refund to the next export, and a file in place always has its `refunds_exported` event. An earlier
export is never overwritten — it is what the payment system was handed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from services.context import ServiceContext
from services.errors import InvalidInput
from services.input_text import has_hidden_characters
from services.refunds.quoting import shorter
from services.refunds.requests import ExportFormat, RefundExport, export_refunds


class RefundFileExport(BaseModel):
    """What an export to a file handed over, and where it is."""

    model_config = ConfigDict(frozen=True)

    path: Path
    count: int
    cursor: int


def refund_export_path(folder: Path, fmt: ExportFormat, now: dt.datetime) -> Path:
    """`refunds-YYYYMMDD-HHMMSS.FORMAT` in `folder`, or `…-2`, `…-3` when taken: never an earlier file."""
    path = folder / f"refunds-{now:%Y%m%d-%H%M%S}.{fmt}"
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return candidate


def _checked_destination(raw: str | Path) -> Path:
    text = str(raw).strip()
    if not text:
        raise InvalidInput("Give the file to write the refunds to.")
    if has_hidden_characters(text):
        # A NUL cannot be in a file name at all, and an escape or a bidi override in one would show a
        # different name than the file has.
        raise InvalidInput(
            "The file name holds a control or invisible character; type the path again, in plain characters."
        )
    path = Path(text).expanduser()
    try:
        taken = path.exists() or path.is_symlink()
    except OSError as exc:
        raise InvalidInput(
            f"Cannot use {shorter(str(path), 120)}: {exc.strerror or exc}. Choose another file name."
        ) from exc
    if taken:
        raise InvalidInput(
            f"{path} exists already; an earlier export is never overwritten. Choose another file name."
        )
    if path.name.startswith("."):
        raise InvalidInput("Give the file a name that does not start with a dot, such as refunds.csv.")
    return path


def _remove(partial: Path) -> None:
    """Take away a half-written file; one that could not even be created leaves nothing to take away."""
    with contextlib.suppress(OSError):
        partial.unlink(missing_ok=True)


async def export_refunds_to_file(
    ctx: ServiceContext, *, fmt: ExportFormat, destination: str | Path, since: int | None = None
) -> RefundFileExport:
    """Export every approved refund not exported yet (or, with `since`, those after that cursor again)
    to `destination` (a new file), audited.

    Folders on the way are created: the person confirmed the path. A file that cannot be written is a
    sentence naming it, and no refund is marked exported. Only a partial file this call created is ever
    taken away: another export writing to the same name at the same moment keeps its own.
    """
    path = _checked_destination(destination)
    partial = path.with_name(f".{path.name}.partial")
    created = False

    def write(export: RefundExport) -> None:
        nonlocal created
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                handle = partial.open("x", encoding="utf-8", newline="")
            except FileExistsError as exc:
                raise InvalidInput(
                    f"Another export is writing {path} right now (or one stopped half-way and left "
                    f"{partial}). Nothing was exported; choose another file name."
                ) from exc
            created = True
            with handle:
                handle.write(export.text)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            if created:
                _remove(partial)
            raise InvalidInput(
                f"Cannot write {path}: {exc.strerror or exc}. Nothing was exported; check the folder and "
                "the free space, or choose another file."
            ) from exc

    try:
        export = await export_refunds(ctx, fmt=fmt, since=since, before_commit=write)
    except BaseException:
        if created:
            _remove(partial)
        raise
    try:
        # A hard link puts the file in place without replacing one that appeared meanwhile.
        os.link(partial, path)
    except OSError as exc:
        raise InvalidInput(
            f"The refunds were exported and the file written as {partial}, but it could not be named "
            f"{path} ({exc.strerror or exc}); rename it by hand."
        ) from exc
    partial.unlink()
    return RefundFileExport(path=path, count=export.count, cursor=export.cursor)
