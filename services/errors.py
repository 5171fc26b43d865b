"""Typed service errors, each carrying a sentence a person can act on.

The workstation turns them into notifications and the command line into a
message on stderr and an exit code; neither ever shows a traceback.
"""

from __future__ import annotations


class ServiceError(Exception):
    """Base of every error a service raises on purpose."""

    title = "Something went wrong"
    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ServiceError):
    title = "Not found"
    exit_code = 3


class Forbidden(ServiceError):
    title = "Not allowed"
    exit_code = 4


class Conflict(ServiceError):
    """Someone else changed the record since it was read."""

    title = "Changed by someone else"
    exit_code = 5


class InvalidInput(ServiceError):
    title = "Invalid input"
    exit_code = 2


class AuthenticationFailed(ServiceError):
    title = "Login failed"
    exit_code = 6


class LoginThrottled(AuthenticationFailed):
    """Too many failed logins with one username: the next attempt must wait (any username alike)."""


class PasswordChangeRequired(Forbidden):
    """The password is temporary: nothing but changing it is allowed until it is changed."""

    title = "Change your password"


class AccountLocked(ServiceError):
    title = "Account locked"
    exit_code = 6


class SessionExpired(ServiceError):
    title = "Session ended"
    exit_code = 6


class Unavailable(ServiceError):
    """The database (or a provider) cannot be reached; nothing was saved."""

    title = "Unavailable"
    exit_code = 7


class SavedButNotReloaded(ServiceError):
    """The change is committed (with its audit event); only reading it back for the screen failed.

    Raised instead of the database error so that nobody is told "nothing was saved" about a change that
    is stored: the message names what was saved and says how to see it.
    """

    title = "Saved"
    exit_code = 7

    def __init__(self, saved: str) -> None:
        super().__init__(f"{saved} Saved. The screen could not reload: press r.")
        self.saved = saved
