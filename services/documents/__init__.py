"""Documents: contracts enter the system here, from a folder, a single file or an S3 prefix.

* :func:`ingest_documents` — the ingestion service (idempotent by SHA-256 of each document's bytes).
* :func:`read_document` — the text of one ``.pdf`` or ``.txt`` document, for callers that read a file
  without storing it (``extract-file``).
* The manifest format (CSV metadata for the documents) is described in :mod:`services.documents.manifest`.
"""

from services.documents.ingest import IngestFailure, IngestReport, ProgressCallback, ingest_documents
from services.documents.manifest import PLACEHOLDER_ACCOUNT, PLACEHOLDER_CUSTOMER, ContractMetadata
from services.documents.readers import (
    SUPPORTED_SUFFIXES,
    DocumentBlank,
    DocumentText,
    DocumentUnreadable,
    read_document,
)
from services.documents.sources import LOCAL_BUCKET

__all__ = [
    "LOCAL_BUCKET",
    "PLACEHOLDER_ACCOUNT",
    "PLACEHOLDER_CUSTOMER",
    "SUPPORTED_SUFFIXES",
    "ContractMetadata",
    "DocumentBlank",
    "DocumentText",
    "DocumentUnreadable",
    "IngestFailure",
    "IngestReport",
    "ProgressCallback",
    "ingest_documents",
    "read_document",
]
