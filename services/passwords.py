"""Password hashing (bcrypt) and the password policy.

The bcrypt cost is a parameter (`rounds`), never read from the environment
here: the process reads Settings.bcrypt_rounds once (which refuses anything
below 12 outside the test suite) and passes it down. Hashing defaults to the
production cost, so a caller that forgets to pass it gets the slow, safe
hash, never a cheap one.

bcrypt only reads the first 72 bytes of a password. Rather than pre-hash
longer ones, the policy refuses them: stored hashes stay plain bcrypt that
any bcrypt tool can check, and 72 bytes is far beyond what anyone guesses.

bcrypt is deliberately slow (about 0.2 s at 12 rounds), so every hash and
check runs in a worker thread: the workstation's event loop keeps drawing
while it works.
"""

from __future__ import annotations

import asyncio
import unicodedata

import bcrypt

from services.errors import InvalidInput
from services.settings import PRODUCTION_BCRYPT_ROUNDS

MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_BYTES = 72

# The hash checked when there is no user to check against, so that an
# unknown username costs the same bcrypt work as a wrong password. Nobody can
# log in with it: verify_password refuses whenever it stood in.
DUMMY_HASH = "$2b$12$3LYEbw1FkTd5fZ.5.2uvtOP5JDYKq7xcxivDY7fRFhh46EwKGmHs2"
_dummy_hashes: dict[int, str] = {PRODUCTION_BCRYPT_ROUNDS: DUMMY_HASH}


def _encoded(password: str) -> bytes | None:
    """The bytes bcrypt will check, or None when no stored password can be this one."""
    try:
        secret = password.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: not text anyone can type
        return None
    if len(secret) > MAX_PASSWORD_BYTES or b"\x00" in secret:
        return None
    return secret


def _character_class(char: str) -> str:
    if char.islower():
        return "lower"
    if char.isupper():
        return "upper"
    if char.isdigit():
        return "digit"
    if char.isalpha():
        return "letter"
    return "symbol"


def check_password_policy(password: str, *, username: str) -> None:
    """Raise InvalidInput, with what to change, unless `password` may be set for `username`."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidInput(f"A password needs at least {MIN_PASSWORD_CHARS} characters.")
    if any(unicodedata.category(char) in {"Cc", "Cs"} for char in password):
        raise InvalidInput(
            "A password cannot contain control characters (such as a NUL byte, a tab or a line break)."
        )
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise InvalidInput(
            f"A password can be at most {MAX_PASSWORD_BYTES} bytes long ({MAX_PASSWORD_BYTES} plain letters, "
            "digits or symbols; accented and non-Latin letters take two to four bytes each), "
            "because bcrypt ignores anything after that."
        )
    if len({_character_class(char) for char in password}) < 2:
        raise InvalidInput(
            "A password needs at least two kinds of character (lower-case letters, capitals, digits, "
            "symbols or spaces); a few words separated by spaces will do."
        )
    if password.casefold() == username.strip().casefold():
        raise InvalidInput("A password cannot be the same as the username.")


async def hash_password(password: str, *, rounds: int = PRODUCTION_BCRYPT_ROUNDS) -> str:
    """The bcrypt hash of a password that passed check_password_policy."""
    secret = _encoded(password)
    if secret is None:
        raise InvalidInput("This password cannot be stored; check it against the password rules.")
    hashed = await asyncio.to_thread(bcrypt.hashpw, secret, bcrypt.gensalt(rounds))
    return hashed.decode("ascii")


async def _dummy_hash(rounds: int) -> str:
    cached = _dummy_hashes.get(rounds)
    if cached is None:
        cached = _dummy_hashes[rounds] = await hash_password("no such user: nobody logs in", rounds=rounds)
    return cached


async def verify_password(password: str, password_hash: str | None, *, rounds: int) -> bool:
    """Whether `password` matches `password_hash`; always costs exactly one bcrypt check.

    With no hash (no such user) the check runs against a dummy hash of the
    configured cost, and a password bcrypt cannot take (too long, a NUL byte)
    is checked as an empty one, so every wrong answer takes the same time.
    """
    secret = _encoded(password)
    target = password_hash if password_hash is not None else await _dummy_hash(rounds)
    matches = await asyncio.to_thread(bcrypt.checkpw, secret or b"", target.encode("ascii"))
    return matches and secret is not None and password_hash is not None
