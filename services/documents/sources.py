"""Where documents come from: a folder (recursively), one file, or an S3 prefix.

A source lists its documents once, up front (so progress has a total and a re-run meets them in the same
order), then fetches each one's bytes on demand. Fetching blocks (file reads, boto3), so the ingestion runs
it in a thread pool; boto3 clients are thread-safe, and one client serves every thread.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from services.documents.readers import MAX_DOCUMENT_BYTES, SUPPORTED_SUFFIXES, too_large
from services.errors import Forbidden, InvalidInput, NotFound, Unavailable

LOCAL_BUCKET = "file"
"""``contracts.s3_bucket`` of a document read from the local file system (its ``s3_key`` is the absolute path)."""


@dataclass(frozen=True)
class SourceDocument:
    """One document of a source, before it is read."""

    name: str
    """The path relative to the source's root (posix separators): what reports show and manifests match."""
    bucket: str
    key: str
    size: int

    @property
    def uri(self) -> str:
        return self.key if self.bucket == LOCAL_BUCKET else f"s3://{self.bucket}/{self.key}"


class SourceError(Exception):
    """One document could not be fetched; the message says why, for the report."""


class DocumentSource(Protocol):
    description: str
    documents: list[SourceDocument]
    ignored: int
    """Files left out because their type is not read (images, spreadsheets...)."""

    def fetch(self, document: SourceDocument) -> bytes:
        """The document's bytes (blocking); raises SourceError."""
        ...

    def close(self) -> None: ...


def is_supported(name: str) -> bool:
    return name.lower().endswith(SUPPORTED_SUFFIXES)


def open_source(
    spec: str, *, endpoint_url: str | None = None, region: str | None = None, connections: int = 8
) -> DocumentSource:
    """The source ``spec`` names, listed (blocking: run it in a thread).

    A named single file is always listed, whatever its type, so that an unsupported one is reported
    rather than silently ignored.
    """
    if spec.startswith("s3://"):
        return S3Source(spec, endpoint_url=endpoint_url, region=region, connections=connections)
    if endpoint_url or region:
        raise InvalidInput("--endpoint-url and --bucket-region only apply to s3://bucket/prefix sources.")
    return LocalSource(Path(spec).expanduser())


class LocalSource:
    def __init__(self, path: Path) -> None:
        self.description = str(path)
        self.ignored = 0
        try:
            root = path.resolve(strict=True)
        except (OSError, RuntimeError) as exc:
            raise InvalidInput(f"There is no file or folder {str(path)!r} to ingest.") from exc
        if root.is_file():
            self.documents = [self._document(root, root.name)]
        elif root.is_dir():
            self.documents = self._walk(root)
        else:
            raise InvalidInput(f"{str(path)!r} is neither a file nor a folder.")

    def _walk(self, root: Path) -> list[SourceDocument]:
        documents: list[SourceDocument] = []
        for folder, subfolders, files in os.walk(root, onerror=_raise_listing_error):
            # Hidden folders and files (.git, .DS_Store, editor swap files) are never contracts.
            subfolders[:] = [name for name in subfolders if not name.startswith(".")]
            for file_name in files:
                if file_name.startswith("."):
                    continue
                if not is_supported(file_name):
                    self.ignored += 1
                    continue
                path = Path(folder) / file_name
                documents.append(self._document(path, path.relative_to(root).as_posix()))
        documents.sort(key=lambda document: document.name)
        return documents

    @staticmethod
    def _document(path: Path, name: str) -> SourceDocument:
        try:
            size = path.stat().st_size
        except OSError:
            size = 0
        return SourceDocument(name=name, bucket=LOCAL_BUCKET, key=str(path), size=size)

    def fetch(self, document: SourceDocument) -> bytes:
        path = Path(document.key)
        try:
            size = path.stat().st_size
            if size > MAX_DOCUMENT_BYTES:
                raise SourceError(too_large(size))
            return path.read_bytes()
        except OSError as exc:
            raise SourceError(f"cannot be read ({exc.strerror or exc})") from exc

    def close(self) -> None:
        return None


def _raise_listing_error(exc: OSError) -> None:
    raise InvalidInput(f"The folder {exc.filename!r} cannot be listed ({exc.strerror}).") from exc


class S3Source:
    def __init__(self, spec: str, *, endpoint_url: str | None, region: str | None, connections: int) -> None:
        import boto3
        from botocore.config import Config

        self.description = spec
        self.ignored = 0
        bucket, _, prefix = spec.removeprefix("s3://").partition("/")
        if not bucket:
            raise InvalidInput(f"{spec!r} names no bucket; write s3://bucket/prefix.")
        self.bucket = bucket
        self.prefix = prefix
        config = Config(
            max_pool_connections=connections,
            retries={"mode": "standard", "max_attempts": 5},
            connect_timeout=10,
            read_timeout=60,
        )
        try:
            self._client: Any = boto3.session.Session().client(
                "s3", endpoint_url=endpoint_url, region_name=region, config=config
            )
        except ValueError as exc:  # a malformed endpoint URL
            raise InvalidInput(f"The S3 endpoint is not valid: {exc}.") from exc
        self.documents = self._list()

    def _list(self) -> list[SourceDocument]:
        documents: list[SourceDocument] = []
        pages = self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        try:
            for page in pages:
                for item in page.get("Contents", []):
                    key = item["Key"]
                    if key.endswith("/") or PurePosixPath(key).name.startswith("."):
                        continue
                    if not is_supported(key):
                        self.ignored += 1
                        continue
                    name = key[len(self.prefix) :].lstrip("/") or PurePosixPath(key).name
                    documents.append(
                        SourceDocument(name=name, bucket=self.bucket, key=key, size=item["Size"])
                    )
        except Exception as exc:
            raise _listing_error(self.description, exc) from exc
        documents.sort(key=lambda document: document.name)
        return documents

    def fetch(self, document: SourceDocument) -> bytes:
        if document.size > MAX_DOCUMENT_BYTES:
            raise SourceError(too_large(document.size))
        try:
            response = self._client.get_object(Bucket=document.bucket, Key=document.key)
            return response["Body"].read()
        except Exception as exc:
            raise SourceError(f"cannot be downloaded ({_s3_reason(exc)})") from exc

    def close(self) -> None:
        self._client.close()


def _s3_reason(exc: Exception) -> str:
    response: dict[str, Any] = getattr(exc, "response", None) or {}
    error = response.get("Error", {})
    if error:
        return f"{error.get('Code', 'error')}: {error.get('Message', '')}".rstrip(": ")
    return f"{type(exc).__name__}: {exc}"


def _listing_error(spec: str, exc: Exception) -> Exception:
    """A sentence for what stops a whole S3 listing: credentials, bucket, permission, network."""
    from botocore.exceptions import (
        EndpointConnectionError,
        NoCredentialsError,
        PartialCredentialsError,
    )

    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return InvalidInput(
            "No AWS credentials were found to read S3. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
            "(or AWS_PROFILE) and try again."
        )
    if isinstance(exc, EndpointConnectionError):
        return Unavailable(f"S3 cannot be reached ({exc}). Check the network or --endpoint-url.")
    code = (getattr(exc, "response", None) or {}).get("Error", {}).get("Code", "")
    if code == "NoSuchBucket":
        return NotFound(f"There is no bucket for {spec}. Check the bucket name (and --endpoint-url).")
    if code in {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken"}:
        return Forbidden(f"S3 refused to list {spec} ({_s3_reason(exc)}). Check the AWS credentials.")
    return Unavailable(f"S3 could not list {spec} ({_s3_reason(exc)}).")
