"""The key that signs audit anchors, and the signature check.

An anchor is only worth something if whoever can write to the database
cannot forge it: the Ed25519 private key lives in a file on the operator's
machine (0600, created on first use) and never in the database. Verifiers
trust the public key of that file when they have it, plus public keys named
in the settings (an auditor's copy, or last year's key after a rotation).
A key is named by its id: the first 16 hex digits of the SHA-256 of the raw
public key, so a person can compare it by eye.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from services.errors import InvalidInput

KEY_ID_DIGITS = 16


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public: Ed25519PublicKey) -> str:
    return hashlib.sha256(_raw(public)).hexdigest()[:KEY_ID_DIGITS]


def public_key_text(public: Ed25519PublicKey) -> str:
    """The public key as base64 of its 32 raw bytes: what an auditor copies into their settings."""
    return base64.b64encode(_raw(public)).decode("ascii")


def parse_public_key(text: str) -> Ed25519PublicKey:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(
            f"{text!r} is not an Ed25519 public key: give the base64 text `refund-review audit anchor-key` prints."
        ) from exc


class AnchorSigner:
    """The private key, loaded from its file."""

    def __init__(self, private: Ed25519PrivateKey, path: Path) -> None:
        self._private = private
        self.path = path
        self.public = private.public_key()
        self.key_id = key_id(self.public)

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)


def load_or_create_signer(path: Path) -> AnchorSigner:
    """The key in `path`; a new one, written with 0600 permissions, when the file does not exist."""
    if not path.exists():
        _create_key(path)
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InvalidInput(
            f"The anchor signing key {path} can be read by other users; "
            f"run `chmod 600 {path}` (and consider the key exposed if others did read it)."
        )
    try:
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"{path} is not an unencrypted PEM private key: {exc}") from exc
    if not isinstance(private, Ed25519PrivateKey):
        raise InvalidInput(f"{path} holds a {type(private).__name__}, not an Ed25519 key.")
    return AnchorSigner(private, path)


def load_public_key(path: Path) -> Ed25519PublicKey | None:
    """The public half of the key file, or None when there is no key file (verifiers never create one)."""
    if not path.exists():
        return None
    return load_or_create_signer(path).public


def _create_key(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process created it a moment ago: use theirs
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
        handle.flush()
        os.fsync(handle.fileno())


class TrustedKeys:
    """Public keys by id; a signature is checked only against the key its anchor names."""

    def __init__(self, keys: Iterable[Ed25519PublicKey]) -> None:
        self._keys = {key_id(key): key for key in keys}

    def __bool__(self) -> bool:
        return bool(self._keys)

    def problem(self, key: str, message: bytes, signature: bytes) -> str | None:
        """None when `signature` is `key`'s over `message`; otherwise what is wrong, for a person."""
        public = self._keys.get(key)
        if public is None:
            return f"it is signed by key {key}, which is not a trusted anchor key here"
        try:
            public.verify(signature, message)
        except InvalidSignature:
            return f"its signature does not verify with key {key}: the anchor was forged or altered"
        return None
