"""A fake vendor endpoint per test, with every SDK's key and endpoint pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.extraction.providers.fakes import FakeVendor, point_vendors_at


@pytest.fixture
def vendor(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeVendor]:
    with FakeVendor() as fake:
        point_vendors_at(monkeypatch, fake.url)
        yield fake
