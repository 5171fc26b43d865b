"""Reading contract documents: text per page from PDFs (pypdf) and from plain text files.

Ingestion and `extract-file` both read through here, so a contract's text is the same whichever way it
entered the system: pages joined by form feeds ("\\f"), line breaks normalized to "\\n". Source spans are
character offsets into that text, so it must never depend on who read the file.

:func:`parse_document` never raises: it runs in worker processes, where a result is easier to send back
than an exception. :func:`read_document` is the public face that raises with a sentence.
"""

from __future__ import annotations

import codecs
import io
import logging
from pathlib import Path
from typing import Literal, NamedTuple

from services.errors import InvalidInput
from services.input_text import document_text

SUPPORTED_SUFFIXES: tuple[str, ...] = (".pdf", ".txt")
# A contract is a few hundred kilobytes even as a scanned PDF; a file far larger than that is a mistake
# (a video, a database dump) and would only exhaust memory.
MAX_DOCUMENT_BYTES = 100 * 2**20

ParseStatus = Literal["extracted", "empty", "failed"]

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)

# pypdf reports recoverable damage ("incorrect startxref pointer") through logging; the reader copes and
# the ingestion report already names what could not be read.
logging.getLogger("pypdf").setLevel(logging.ERROR)


class DocumentText(NamedTuple):
    """The text of a readable document; unpacks as ``text, page_count``."""

    text: str
    page_count: int


class ParsedDocument(NamedTuple):
    """What reading one document gave: text (when ``status == "extracted"``) or a note saying why not."""

    status: ParseStatus
    text: str | None
    page_count: int | None
    note: str | None


class DocumentUnreadable(InvalidInput):
    """The file cannot be read as a contract; ``reason`` says why in words an operator can act on."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


class DocumentBlank(DocumentUnreadable):
    """The file is readable but holds no text: a scanned PDF without a text layer, or an empty file."""

    def __init__(self, name: str, reason: str, page_count: int) -> None:
        super().__init__(name, reason)
        self.page_count = page_count


def read_document(source: Path | bytes, name: str | None = None) -> DocumentText:
    """The text of a ``.pdf`` or ``.txt`` document, given as a path or as its bytes.

    ``name`` decides the reader by its extension (default: the path's file name). Raises
    :class:`DocumentBlank` when there is no text to read (a scanned PDF needs OCR first) and
    :class:`DocumentUnreadable` for anything else that stops reading (a corrupt or encrypted PDF, a text
    file that is not UTF-8, an unsupported type, a file too large).
    """
    if isinstance(source, Path):
        name = name or source.name
        try:
            size = source.stat().st_size
            if size > MAX_DOCUMENT_BYTES:
                raise DocumentUnreadable(name, too_large(size))
            data = source.read_bytes()
        except OSError as exc:
            raise DocumentUnreadable(name, f"cannot be read ({exc.strerror or exc})") from exc
    else:
        if name is None:
            raise ValueError("read_document needs the document's name to choose a reader for bytes")
        data = source
    parsed = parse_document(data, name)
    if parsed.status == "extracted" and parsed.text is not None and parsed.page_count is not None:
        return DocumentText(parsed.text, parsed.page_count)
    if parsed.status == "empty":
        raise DocumentBlank(name, parsed.note or "holds no text", parsed.page_count or 0)
    raise DocumentUnreadable(name, parsed.note or "cannot be read")


def parse_document(data: bytes, name: str) -> ParsedDocument:
    """Read ``data`` with the reader its name's extension calls for; never raises."""
    suffix = Path(name).suffix.lower()
    if len(data) > MAX_DOCUMENT_BYTES:
        return _failed(too_large(len(data)))
    if suffix == ".pdf":
        return _parse_pdf(data)
    if suffix == ".txt":
        return _parse_text(data)
    shown = suffix or "without an extension"
    return _failed(f"unsupported file type ({shown}): only {' and '.join(SUPPORTED_SUFFIXES)} files are read")


def too_large(size: int) -> str:
    return (
        f"too large to be a contract ({size / 2**20:,.0f} MB; the limit is {MAX_DOCUMENT_BYTES // 2**20} MB)"
    )


def page_count_of(text: str) -> int:
    return text.count("\f") + 1


def _failed(note: str) -> ParsedDocument:
    return ParsedDocument("failed", None, None, note)


def _normalize_lines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _parse_text(data: bytes) -> ParsedDocument:
    """UTF-8 (with or without a byte-order mark) or UTF-16 with one; nothing is guessed.

    Guessing a legacy encoding (cp1252, Latin-1) would silently turn "§" or "’" into other characters, and
    the quotes shown to reviewers must be what the contract says: a file that is not UTF-8 is refused with
    the offset of the first bad byte, so that someone converts it knowingly.
    """
    try:
        encoding = "utf-16" if data.startswith(_UTF16_BOMS) else "utf-8-sig"
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        bad = exc.object[exc.start]
        return _failed(
            f"not UTF-8 text (byte 0x{bad:02X} at offset {exc.start:,}); save it as UTF-8 and ingest it again"
        )
    if "\x00" in text:
        return _failed("contains NUL bytes: it is a binary file, or UTF-16 text without a byte-order mark")
    # Text exported from PDFs (pdftotext) ends with a page break; it does not start another page.
    text = document_text(_normalize_lines(text).rstrip("\f"))
    if not text.strip():
        return ParsedDocument("empty", None, page_count_of(text), "the text file is empty")
    return ParsedDocument("extracted", text, page_count_of(text), None)


def _parse_pdf(data: bytes) -> ParsedDocument:
    from pypdf import PasswordType, PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            return _failed("encrypted PDF: it needs a password; save an unprotected copy and ingest that")
        pages = [_page_text(page.extract_text()) for page in reader.pages]
    # pypdf raises many exception types (its own, ValueError, KeyError, struct.error...) on damaged files;
    # whatever it raises, the file cannot be read, and the report says so next to its name.
    except Exception as exc:
        return _failed(f"not a readable PDF ({type(exc).__name__}: {str(exc)[:200] or 'no detail'})")
    if not pages:
        return ParsedDocument("empty", None, 0, "the PDF has no pages")
    if not any(page.strip() for page in pages):
        plural = "page" if len(pages) == 1 else "pages"
        return ParsedDocument(
            "empty", None, len(pages), f"scanned PDF: needs OCR (no text layer on its {len(pages)} {plural})"
        )
    return ParsedDocument("extracted", "\f".join(pages), len(pages), None)


def _page_text(text: str) -> str:
    """One page's text as stored: a form feed inside a page would make a page of its own; NUL, terminal
    controls and the lone surrogates that broken font encodings produce become U+FFFD (document_text)."""
    return document_text(_normalize_lines(text).replace("\f", "\n"))
