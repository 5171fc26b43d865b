"""Fixtures for Pilot tests: the real app, made by make_app, against the test database."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import URL

from app.workstation import RefundReviewApp, make_app
from services.settings import Settings
from tests.services.conftest import PASSWORD, add_contract, make_context, password_hash, system  # noqa: F401

__all__ = ["PASSWORD"]


@pytest.fixture
def settings(database_url: URL, workstation_url: URL, tmp_path) -> Settings:
    return Settings(
        database_url=workstation_url.render_as_string(hide_password=False),
        owner_database_url=database_url.render_as_string(hide_password=False),
        home=tmp_path,
        testing=True,
        bcrypt_rounds=4,
    )


@pytest.fixture
def workstation(settings: Settings) -> RefundReviewApp:
    return make_app(settings)
