"""Process configuration: environment variables and `.env`, validated once at start.

What administrators change while the system runs lives in the database
(`system_config`); what a process needs before it can reach the database
lives here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Self

from platformdirs import user_data_dir
from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PRODUCTION_BCRYPT_ROUNDS = 12


def _default_home() -> Path:
    return Path(user_data_dir("refund-review", appauthor=False))


class Settings(BaseSettings):
    """Settings of one process. Every field can be set as REFUND_REVIEW_<NAME>."""

    model_config = SettingsConfigDict(
        env_prefix="REFUND_REVIEW_", env_file=".env", extra="ignore", populate_by_name=True
    )

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "REFUND_REVIEW_DATABASE_URL"),
        description="PostgreSQL URL; without one the embedded server is used.",
    )
    home: Path = Field(
        default_factory=_default_home, description="Data directory (embedded server, exports)."
    )
    database_role: str | None = Field(
        default="refund_review_app",
        description="Role the services switch to on every connection; empty to stay the login user.",
    )
    bcrypt_rounds: int = Field(default=PRODUCTION_BCRYPT_ROUNDS, ge=4, le=16)
    testing: bool = Field(default=False, description="Set by the test suite; allows cheap password hashes.")
    theme: str = "textual-dark"
    keymap: dict[str, str] = Field(
        default_factory=dict, description='Key remapping by binding id, e.g. {"approve": "ctrl+a"}.'
    )

    @property
    def exports_dir(self) -> Path:
        """Where audit exports go unless told otherwise, from the workstation and the command line alike."""
        return self.home.expanduser() / "exports"

    @field_validator("database_url", "database_role", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        # DATABASE_URL= in a shell or .env means "not set", not "an empty URL".
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _rounds_only_lowered_for_tests(self) -> Self:
        # Cheap hashes make the suite fast; they must never reach a real deployment.
        if self.bcrypt_rounds < PRODUCTION_BCRYPT_ROUNDS and not self.testing:
            raise ValueError(
                f"bcrypt_rounds below {PRODUCTION_BCRYPT_ROUNDS} is only allowed with REFUND_REVIEW_TESTING=1"
            )
        return self


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with command-line overrides on top."""
    return Settings(**{key: value for key, value in overrides.items() if value is not None})
