"""Contract metadata for ingested documents: from a CSV manifest, or placeholders from the file name.

The manifest is a CSV file with a header row (UTF-8; column names are case-insensitive, spaces and hyphens
read as underscores):

``file`` (alias ``filename``)
    The document a row describes: its path relative to the ingested folder or S3 prefix
    (``2024/GAP-2024-001001.pdf``) or just its file name (``GAP-2024-001001.pdf``). Optional: a row
    without it describes the document whose file name without extension is its ``contract_id``.
``contract_id``
    Default: the file name without its extension.
``account_number``, ``customer_name``
    Default: ``UNKNOWN`` and ``Unknown customer`` (see below).
``contract_date``
    ``YYYY-MM-DD`` or ``MM/DD/YYYY``; default: none.
``contract_type``
    ``retail_installment``, ``lease``, ``balloon`` or ``refinance`` ("Retail Installment" is accepted);
    default: ``retail_installment``, the database's own default.
anything else (``vin``, ``year``, ``make``, ``model``, ``trim``, ``mileage``...)
    Goes into ``vehicle_info``; ``year`` and ``mileage`` are stored as numbers, ``vin`` in upper case.

Empty cells count as absent. A document no row describes gets the placeholders: the account number
``UNKNOWN`` satisfies the account format (letters, digits and hyphens) and is easy to find with a search,
so contracts still waiting for their metadata can be listed and completed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import BaseModel, ConfigDict

from services.errors import InvalidInput
from services.input_text import CONTRACT_ID_FORMAT, has_hidden_characters

PLACEHOLDER_ACCOUNT = "UNKNOWN"
PLACEHOLDER_CUSTOMER = "Unknown customer"
DEFAULT_CONTRACT_TYPE = "retail_installment"
CONTRACT_TYPES = ("retail_installment", "lease", "balloon", "refinance")
CONTRACT_COLUMNS = frozenset(
    {"contract_id", "account_number", "customer_name", "contract_date", "contract_type"}
)
FILE_COLUMN_ALIASES = frozenset({"file", "filename", "file_name"})
MAX_MANIFEST_BYTES = 512 * 2**20

# The CHECK constraints of schema/v0001/01_tables.sql, checked here so that a bad row is reported by name
# instead of failing a whole batch of inserts.
_ACCOUNT = re.compile(r"[A-Za-z0-9-]{1,32}")
_VEHICLE_KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")
_INTEGER = re.compile(r"\d{1,3}(?:,\d{3})+|\d+")
_INTEGER_VEHICLE_FIELDS = frozenset({"year", "mileage", "odometer"})
_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y")
_MAX_CUSTOMER_CHARS = 200
_MAX_VEHICLE_VALUE_CHARS = 200


class ContractMetadata(BaseModel):
    """The contract columns an ingested document is stored with."""

    model_config = ConfigDict(frozen=True)

    contract_id: str
    account_number: str
    customer_name: str
    contract_type: str
    contract_date: dt.date | None
    vehicle_info: dict[str, Any]


class MetadataError(ValueError):
    """A manifest row or a file name that cannot make a contract; the message says why."""


@dataclass(frozen=True)
class ManifestRow:
    number: int
    """The row's line in the CSV file (the header is line 1), as a spreadsheet shows it."""
    cells: dict[str, str]
    problem: str | None = None
    """Why the row cannot be used whatever document it describes (extra cells, repeated)."""


@dataclass
class Manifest:
    """A manifest's rows, indexed by the document names they describe."""

    name: str
    by_file: dict[str, ManifestRow] = field(default_factory=dict)
    by_contract_id: dict[str, ManifestRow] = field(default_factory=dict)
    unnamed: list[ManifestRow] = field(default_factory=list)
    """Rows naming neither a file nor a contract id: they describe no document."""
    used: set[int] = field(default_factory=set)

    def row_for(self, document_name: str) -> ManifestRow | None:
        """The row describing a document (by relative path, then file name, then contract id)."""
        path = PurePosixPath(document_name)
        row = (
            self.by_file.get(document_name)
            or self.by_file.get(path.name)
            or self.by_contract_id.get(path.stem)
        )
        if row is not None:
            self.used.add(row.number)
        return row

    def unused_rows(self) -> list[ManifestRow]:
        """Rows naming a document that was not found (the unnamed rows are apart: they name none)."""
        rows = {row.number: row for row in (*self.by_file.values(), *self.by_contract_id.values())}
        return [row for number, row in sorted(rows.items()) if number not in self.used]


def load_manifest(path: Path) -> Manifest:
    """Read and index a CSV manifest (blocking); a manifest that cannot be read at all stops the ingestion."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"The manifest {str(path)!r} cannot be read ({exc.strerror or exc}).") from exc
    if len(data) > MAX_MANIFEST_BYTES:
        raise InvalidInput(f"The manifest {path.name} is larger than {MAX_MANIFEST_BYTES // 2**20} MB.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"The manifest {path.name} is not UTF-8 text (byte at offset {exc.start:,}); save it as UTF-8 CSV."
        ) from exc
    return parse_manifest(text, path.name)


def parse_manifest(text: str, name: str) -> Manifest:
    if "\x00" in text:
        raise InvalidInput(f"The manifest {name} contains NUL bytes; it is not a CSV text file.")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise InvalidInput(f"The manifest {name} is empty; it needs a header row.")
        columns = [_column_name(cell) for cell in header]
        file_column = next((column for column in columns if column in FILE_COLUMN_ALIASES), None)
        if file_column is None and "contract_id" not in columns:
            raise InvalidInput(
                f"The manifest {name} needs a 'file' or a 'contract_id' column to know which document each "
                f"row describes; its columns are: {', '.join(c for c in columns if c) or 'none'}."
            )
        manifest = Manifest(name=name)
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            values = {
                column: cell.strip()
                for column, cell in zip(columns, cells, strict=False)
                if column and cell.strip()
            }
            file_value = values.pop(file_column, None) if file_column else None
            extra = len(cells) > len(columns)
            row = ManifestRow(
                number=reader.line_num,
                cells=values,
                problem=f"row {reader.line_num} has more cells than the header has columns"
                if extra
                else None,
            )
            if file_value:
                # "./2024\GAP-1.pdf" written on Windows names the document "2024/GAP-1.pdf".
                name = str(PurePosixPath(file_value.replace("\\", "/").lstrip("/")))
                _index(manifest.by_file, name, row)
            elif "contract_id" in values:
                _index(manifest.by_contract_id, values["contract_id"], row)
            else:
                manifest.unnamed.append(
                    ManifestRow(
                        row.number, values, f"row {row.number} names neither a file nor a contract id"
                    )
                )
    except csv.Error as exc:
        raise InvalidInput(f"The manifest {name} is not valid CSV at line {reader.line_num}: {exc}.") from exc
    return manifest


def _column_name(cell: str) -> str:
    return re.sub(r"[\s-]+", "_", cell.strip().lower())


def _index(index: dict[str, ManifestRow], key: str, row: ManifestRow) -> None:
    earlier = index.get(key)
    if earlier is not None:
        # Two rows for one document: neither is trusted, and the document is reported.
        row = ManifestRow(row.number, row.cells, f"rows {earlier.number} and {row.number} both describe it")
    index[key] = row


def contract_metadata(document_name: str, row: ManifestRow | None) -> ContractMetadata:
    """The metadata of a document: its manifest row's, or placeholders; raises MetadataError."""
    stem = PurePosixPath(document_name).stem
    if row is None:
        return ContractMetadata(
            contract_id=_contract_id(stem, "the file name"),
            account_number=PLACEHOLDER_ACCOUNT,
            customer_name=PLACEHOLDER_CUSTOMER,
            contract_type=DEFAULT_CONTRACT_TYPE,
            contract_date=None,
            vehicle_info={},
        )
    where = f"manifest row {row.number}"
    if row.problem is not None:
        raise MetadataError(f"manifest {row.problem}")
    cells = row.cells
    account = cells.get("account_number", PLACEHOLDER_ACCOUNT)
    if not _ACCOUNT.fullmatch(account):
        raise MetadataError(
            f"{where}: account number {account[:40]!r} is not valid (1–32 letters, digits or hyphens)"
        )
    customer = cells.get("customer_name", PLACEHOLDER_CUSTOMER)
    if len(customer) > _MAX_CUSTOMER_CHARS or has_hidden_characters(customer):
        raise MetadataError(
            f"{where}: the customer name must be at most {_MAX_CUSTOMER_CHARS} printable characters"
        )
    return ContractMetadata(
        contract_id=_contract_id(cells.get("contract_id", stem), where),
        account_number=account,
        customer_name=customer,
        contract_type=_contract_type(cells.get("contract_type"), where),
        contract_date=_contract_date(cells.get("contract_date"), where),
        vehicle_info=_vehicle_info(cells, where),
    )


def _contract_id(value: str, where: str) -> str:
    if not CONTRACT_ID_FORMAT.fullmatch(value):
        raise MetadataError(
            f"{value[:70]!r} from {where} is not a valid contract id (up to 64 letters, digits, '.', '_' "
            "or '-', starting with a letter or digit); rename the file or give its id in a manifest"
        )
    return value


def _contract_type(value: str | None, where: str) -> str:
    if value is None:
        return DEFAULT_CONTRACT_TYPE
    normalized = re.sub(r"[\s-]+", "_", value.strip().lower())
    if normalized not in CONTRACT_TYPES:
        raise MetadataError(
            f"{where}: contract type {value[:40]!r} is not one of {', '.join(CONTRACT_TYPES)}"
        )
    return normalized


def _contract_date(value: str | None, where: str) -> dt.date | None:
    if value is None:
        return None
    for date_format in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(value, date_format).date()
        except ValueError:
            continue
    raise MetadataError(f"{where}: contract date {value[:40]!r} is not a date (YYYY-MM-DD or MM/DD/YYYY)")


def _vehicle_info(cells: dict[str, str], where: str) -> dict[str, Any]:
    info: dict[str, Any] = {}
    for key, value in cells.items():
        if key in CONTRACT_COLUMNS or key in FILE_COLUMN_ALIASES:
            continue
        if not _VEHICLE_KEY.fullmatch(key):
            raise MetadataError(f"{where}: column {key[:40]!r} cannot be a vehicle field name")
        if len(value) > _MAX_VEHICLE_VALUE_CHARS or has_hidden_characters(value):
            raise MetadataError(
                f"{where}: the {key} must be at most {_MAX_VEHICLE_VALUE_CHARS} printable characters"
            )
        if key in _INTEGER_VEHICLE_FIELDS:
            if not _INTEGER.fullmatch(value):
                raise MetadataError(f"{where}: the vehicle {key} {value[:20]!r} is not a whole number")
            info[key] = int(value.replace(",", ""))
        elif key == "vin":
            info[key] = value.upper()
        else:
            info[key] = value
    return info
