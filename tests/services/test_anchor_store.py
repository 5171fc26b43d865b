"""Anchor stores: S3 with Object Lock in compliance mode (moto's server), and the local directory."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from db.database import Database
from db.uow import AuditRecord
from services.audit import (
    AnchorSource,
    DirectoryAnchorStore,
    S3AnchorStore,
    TrustedKeys,
    anchor_chain,
    load_or_create_signer,
    open_anchor_store,
    verify_audit_chain,
)
from services.context import ServiceContext
from services.errors import Conflict, InvalidInput
from tests.fixtures.s3 import moto_s3_server


async def some_events(system: ServiceContext, count: int = 3) -> None:
    async with system.db.unit_of_work() as uow:
        for i in range(count):
            uow.record(AuditRecord(event_type="ingest", event_data={"i": i}))
        await uow.commit()


async def test_s3_anchor_is_locked_in_compliance_mode_and_verifies(
    database: Database, system: ServiceContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    signer = load_or_create_signer(tmp_path / "anchor-key.pem")
    await some_events(system)
    with moto_s3_server(monkeypatch) as s3:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3.url)
        s3.client.create_bucket(Bucket="anchors", ObjectLockEnabledForBucket=True)
        store = open_anchor_store("s3://anchors/refund-review/prod")
        assert isinstance(store, S3AnchorStore)

        result = await anchor_chain(system, signer, store)

        assert result.written
        key = f"refund-review/prod/{result.statement.file_name()}"
        assert result.location == f"s3://anchors/{key}"
        # head_object rather than get_object_retention, which moto's server does not answer.
        head = s3.client.head_object(Bucket="anchors", Key=key)
        assert head["ObjectLockMode"] == "COMPLIANCE"
        years = (head["ObjectLockRetainUntilDate"] - result.statement.anchored_at).days / 365.25
        assert 6.99 < years < 7.01
        assert result.locked_until is not None
        version = head["VersionId"]
        with pytest.raises(ClientError, match="AccessDenied"):
            s3.client.delete_object(Bucket="anchors", Key=key, VersionId=version)
        with pytest.raises(Conflict, match="already exists"):
            store.append(result.statement.file_name(), b"{}", dt.datetime.now(dt.UTC))

        verification = await verify_audit_chain(
            system, anchors=AnchorSource(store=store, trusted=TrustedKeys([signer.public]))
        )
    assert verification.intact, verification.problems
    assert verification.anchors is not None
    assert verification.anchors.last_anchored_seq == 3
    assert verification.anchors.store == "s3://anchors/refund-review/prod/"


async def test_s3_bucket_without_object_lock_still_takes_anchors_but_says_so(
    database: Database, system: ServiceContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    signer = load_or_create_signer(tmp_path / "anchor-key.pem")
    await some_events(system)
    with moto_s3_server(monkeypatch) as s3:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3.url)
        s3.create_bucket("plain")
        result = await anchor_chain(system, signer, open_anchor_store("s3://plain"))
        assert result.written and result.locked_until is None
        assert [o["Key"] for o in s3.client.list_objects_v2(Bucket="plain")["Contents"]] == [
            result.statement.file_name()
        ]


def test_directory_store_never_overwrites(tmp_path: Path) -> None:
    store = open_anchor_store(str(tmp_path / "anchors"))
    assert isinstance(store, DirectoryAnchorStore)
    moment = dt.datetime.now(dt.UTC)
    store.append("anchor-1.json", b"first", moment)
    with pytest.raises(Conflict, match="already exists"):
        store.append("anchor-1.json", b"second", moment)
    assert store.read("anchor-1.json") == b"first"
    assert store.names() == ["anchor-1.json"]


def test_an_s3_location_without_a_bucket_is_refused() -> None:
    with pytest.raises(InvalidInput, match="names no bucket"):
        open_anchor_store("s3:///prefix")


def test_the_key_is_created_private_and_a_readable_one_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "anchor-key.pem"
    signer = load_or_create_signer(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_signer(path).key_id == signer.key_id
    path.chmod(0o644)
    with pytest.raises(InvalidInput, match="chmod 600"):
        load_or_create_signer(path)
