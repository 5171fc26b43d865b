"""Process configuration: environment variables and `.env`, validated once at start.

What administrators change while the system runs lives in the database
(`system_config`); what a process needs before it can reach the database
lives here.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Self

from platformdirs import user_data_dir
from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
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
    database_url_file: Path | None = Field(
        default=None,
        description="A file holding DATABASE_URL (its first line), readable by the service user only: "
        "how a host serving a team keeps the URL out of the reviewers' reach (README, Over SSH).",
    )
    home: Path = Field(
        default_factory=_default_home, description="Data directory (embedded server, exports)."
    )
    owner_database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL of the schema's owner, for `db upgrade`, `maintain` and "
        "`db create-login`; DATABASE_URL is then the workstation login's. Never give it to a workstation.",
    )
    bcrypt_rounds: int = Field(default=PRODUCTION_BCRYPT_ROUNDS, ge=4, le=16)
    testing: bool = Field(default=False, description="Set by the test suite; allows cheap password hashes.")
    anchor_key: Path | None = Field(
        default=None,
        description="Ed25519 private key that signs audit anchors (default <home>/anchor-key.pem); "
        "keep it where the database and the workstations cannot reach it.",
    )
    anchor_store: str | None = Field(
        default=None,
        description="Where signed audit anchors are appended: a directory or s3://bucket/prefix "
        "(default <home>/anchors).",
    )
    anchor_public_keys: list[str] = Field(
        default_factory=list,
        description="Extra public keys (base64, raw Ed25519) whose anchors are trusted: "
        "an auditor's copy, or the keys of earlier years after a rotation.",
    )
    theme: str = "textual-dark"
    keymap: dict[str, str] = Field(
        default_factory=dict, description='Key remapping by binding id, e.g. {"approve": "ctrl+a"}.'
    )
    # LLM vendors, by each vendor's standard variable (the SDKs' own names), or with the prefix. Keys are
    # SecretStr so that no repr, log line or error message shows them.
    anthropic_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("ANTHROPIC_API_KEY", "REFUND_REVIEW_ANTHROPIC_API_KEY")
    )
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "REFUND_REVIEW_OPENAI_API_KEY")
    )
    aws_region: str | None = Field(
        default=None,
        validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION", "REFUND_REVIEW_AWS_REGION"),
        description="Region of Bedrock; AWS credentials come from boto3's usual chain.",
    )
    bedrock_endpoint_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("BEDROCK_ENDPOINT_URL", "REFUND_REVIEW_BEDROCK_ENDPOINT_URL"),
        description="A Bedrock runtime endpoint other than the region's (a gateway, or a test server).",
    )

    @property
    def exports_dir(self) -> Path:
        """Where audit exports go unless told otherwise, from the workstation and the command line alike."""
        return self.home.expanduser() / "exports"

    @property
    def anchor_key_path(self) -> Path:
        return self.anchor_key or self.home / "anchor-key.pem"

    @property
    def anchor_store_location(self) -> str:
        return self.anchor_store or str(self.home / "anchors")

    @field_validator(
        "database_url",
        "owner_database_url",
        "anchor_store",
        "anchor_key",
        "aws_region",
        "bedrock_endpoint_url",
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        # DATABASE_URL= in a shell or .env means "not set", not "an empty URL".
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("anthropic_api_key", "openai_api_key", mode="before")
    @classmethod
    def _key_without_spaces(cls, value: object) -> object:
        # A key pasted with a newline still works; a key of spaces is no key.
        return (value.strip() or None) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _url_from_file(self) -> Self:
        if self.database_url_file is None:
            return self
        if self.database_url:
            raise ValueError("give the database URL or a file holding it (database_url_file), not both")
        self.database_url = read_url_file(self.database_url_file)
        return self

    @model_validator(mode="after")
    def _rounds_only_lowered_for_tests(self) -> Self:
        # Cheap hashes make the suite fast; they must never reach a real deployment.
        if self.bcrypt_rounds < PRODUCTION_BCRYPT_ROUNDS and not self.testing:
            raise ValueError(
                f"bcrypt_rounds below {PRODUCTION_BCRYPT_ROUNDS} is only allowed with REFUND_REVIEW_TESTING=1"
            )
        return self


def read_url_file(path: Path) -> str:
    """The URL in `path`: its first line. Refused when every user of the host may read the file, since
    the URL carries the database's password and the point of the file is that reviewers cannot."""
    try:
        mode = path.stat().st_mode
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ValueError(f"the database URL file {path} cannot be read ({exc.strerror})") from exc
    if mode & stat.S_IRWXO:
        raise ValueError(
            f"the database URL file {path} is open to every user of this host; "
            f"make it the service user's alone (chmod 600 {path})"
        )
    url = lines[0].strip() if lines else ""
    if not url:
        raise ValueError(f"the database URL file {path} is empty; its first line must be the URL")
    return url


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with command-line overrides on top."""
    return Settings(**{key: value for key, value in overrides.items() if value is not None})
