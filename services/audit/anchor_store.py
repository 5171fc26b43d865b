"""Where signed audit anchors are kept: append-only, outside the database.

Two kinds, chosen by the location's spelling:

- a directory (the default, `<home>/anchors`): one file per anchor, written
  in full (O_EXCL, fsynced, read-only) and then hard-linked into place, which
  never replaces an existing anchor. This protects against mistakes, not against the machine's
  administrator: copy the directory to write-once storage, or use S3.
- `s3://bucket/prefix`: one object per anchor, written with
  `If-None-Match: *` (never over an existing key) and, where the bucket has
  S3 Object Lock enabled, a COMPLIANCE retention until the end of the audit
  retention period, which nobody, the account's root included, can shorten
  or delete before it runs out. The endpoint and credentials are boto3's
  usual ones (`AWS_ENDPOINT_URL_S3`, `AWS_PROFILE`, ...).

Stores are synchronous (boto3 is); services call them in a worker thread.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from services.errors import Conflict, InvalidInput, Unavailable

S3_SCHEME = "s3://"


@dataclass(frozen=True)
class Appended:
    """Where an anchor went, and until when nobody can delete it (None: no lock)."""

    location: str
    locked_until: dt.datetime | None


class AnchorStore(Protocol):
    location: str

    def append(self, name: str, body: bytes, retain_until: dt.datetime) -> Appended: ...

    def names(self) -> list[str]:
        """Every anchor's name, in name order (which is sequence order)."""
        ...

    def read(self, name: str) -> bytes: ...


def open_anchor_store(location: str) -> AnchorStore:
    if location.startswith(S3_SCHEME):
        bucket, _, prefix = location[len(S3_SCHEME) :].partition("/")
        if not bucket:
            raise InvalidInput(f"{location!r} names no bucket: write s3://bucket/prefix.")
        return S3AnchorStore(bucket, prefix.strip("/"))
    return DirectoryAnchorStore(Path(location).expanduser())


class DirectoryAnchorStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.location = str(directory)

    def append(self, name: str, body: bytes, retain_until: dt.datetime) -> Appended:
        """Written in full beside its place (O_EXCL), then linked into it: a crash leaves no half
        anchor, and a link never replaces an existing one."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / name
        partial = self.directory / f".{name}.partial"
        taken = Conflict(f"An anchor named {name} already exists in {self.location}; it was kept.")
        try:
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
        except FileExistsError as exc:
            raise taken from exc
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(body)
                handle.flush()
                os.fsync(handle.fileno())
            os.link(partial, path)
        except FileExistsError as exc:
            raise taken from exc
        finally:
            partial.unlink(missing_ok=True)
        _sync_directory(self.directory)
        return Appended(str(path), None)

    def names(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        try:
            return sorted(p.name for p in self.directory.iterdir() if p.suffix == ".json")
        except OSError as exc:
            raise self._unreadable(exc) from exc

    def read(self, name: str) -> bytes:
        try:
            return (self.directory / name).read_bytes()
        except OSError as exc:
            raise self._unreadable(exc) from exc

    def _unreadable(self, exc: OSError) -> Unavailable:
        return Unavailable(f"The anchor store {self.location} cannot be read: {exc.strerror or exc}.")


class S3AnchorStore:
    def __init__(self, bucket: str, prefix: str) -> None:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError

        self.bucket = bucket
        self.prefix = f"{prefix}/" if prefix else ""
        self.location = f"{S3_SCHEME}{bucket}/{self.prefix}"
        self._client: Any = boto3.session.Session().client("s3")
        self._failures = (BotoCoreError, ClientError)

    def append(self, name: str, body: bytes, retain_until: dt.datetime) -> Appended:
        key = self.prefix + name
        lock: dict[str, Any] = {}
        if self._object_lock_enabled():
            lock = {"ObjectLockMode": "COMPLIANCE", "ObjectLockRetainUntilDate": retain_until}
        try:
            self._client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType="application/json",
                IfNoneMatch="*",
                ChecksumAlgorithm="SHA256",
                **lock,
            )
        except self._failures as exc:
            if _error_code(exc) == "PreconditionFailed":
                raise Conflict(
                    f"An anchor named {name} already exists in {self.location}; it was kept."
                ) from exc
            raise self._unavailable(exc) from exc
        return Appended(f"{S3_SCHEME}{self.bucket}/{key}", retain_until if lock else None)

    def _object_lock_enabled(self) -> bool:
        try:
            answer = self._client.get_object_lock_configuration(Bucket=self.bucket)
        except self._failures as exc:
            if _error_code(exc) == "ObjectLockConfigurationNotFoundError":
                return False
            raise self._unavailable(exc) from exc
        return answer.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") == "Enabled"

    def names(self) -> list[str]:
        try:
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix
            )
            keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
        except self._failures as exc:
            raise self._unavailable(exc) from exc
        return sorted(
            k[len(self.prefix) :] for k in keys if k.endswith(".json") and "/" not in k[len(self.prefix) :]
        )

    def read(self, name: str) -> bytes:
        try:
            return self._client.get_object(Bucket=self.bucket, Key=self.prefix + name)["Body"].read()
        except self._failures as exc:
            raise self._unavailable(exc) from exc

    def _unavailable(self, exc: Exception) -> Unavailable:
        return Unavailable(f"The anchor store {self.location} cannot be reached: {exc}")


def _sync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _error_code(exc: Exception) -> str | None:
    response = getattr(exc, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None
