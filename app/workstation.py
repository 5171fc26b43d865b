"""The Refund Review workstation: the App only wires screens, bindings and the service context.

Behaviour lives in the screens (app/screens/) and dialogs (app/dialogs/); business rules in services/.
Each main area is a Textual *mode* with its own screen stack, so that going
from the queue to the dashboard and back keeps the reviewer's place.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import logging
import signal
import time
from collections.abc import Iterable
from dataclasses import dataclass

from textual import events, work
from textual.app import SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from app.keys import KeysInTypedOrder
from app.session import WorkstationSession
from services.auth import LoginResult, validate_session
from services.context import ServiceContext
from services.errors import ServiceError, SessionExpired
from services.permissions import Permission, allowed
from services.runtime import Runtime, start_runtime
from services.settings import Settings


@dataclass(frozen=True)
class Area:
    """A main area of the workstation: its mode name, title, key, footer label and who may open it.

    The footer's label is short: with every area a role may open beside a screen's own keys, the full
    titles cut the last keys (f12 Lock) off a 120-column footer. Help and the palette use the title.
    """

    mode: str
    title: str
    key: str
    permission: Permission
    label: str


AREAS: tuple[Area, ...] = (
    Area("queue", "Review queue", "f2", Permission.VIEW_QUEUE, "Queue"),
    Area("search", "Search", "f3", Permission.SEARCH, "Search"),
    Area("dashboard", "Dashboard", "f4", Permission.VIEW_DASHBOARD, "Dashboard"),
    Area("admin", "Administration", "f5", Permission.MANAGE_USERS, "Admin"),
    Area("audit", "Audit log", "f6", Permission.VIEW_AUDIT, "Audit"),
    # Everyone who may open a request sees the list; approving and paying are checked per key.
    Area("refunds", "Refunds", "f7", Permission.REQUEST_REFUND, "Refunds"),
)
log = logging.getLogger(__name__)
# The terminal closed, or a service manager asked the process to stop: both end the app like ctrl+q.
STOP_SIGNALS = (signal.SIGHUP, signal.SIGTERM)
LOGIN_MODE = "login"
SESSION_CHECK_SECONDS = 60
IDLE_CHECK_SECONDS = 15
# After this long without a key, the garbage is collected (see _collect_in_pause).
COLLECT_AFTER_SECONDS = 0.5
# How long quitting waits for the database to end the session and release the claims.
EXIT_LOGOUT_SECONDS = 5.0


def _login_screen() -> Screen:
    from app.screens.login import LoginScreen

    return LoginScreen()


class RefundReviewApp(KeysInTypedOrder):
    """Keyboard-first review of AI extractions from GAP contracts."""

    CSS_PATH = "workstation.tcss"
    # The login screen is a mode of its own, so that leaving a session is switching back to it.
    MODES = {LOGIN_MODE: _login_screen}
    DEFAULT_MODE = LOGIN_MODE
    TITLE = "Refund Review"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("f1", "help", "Help", id="help"),
        Binding("question_mark", "help", "Help", show=False, id="help_question_mark"),
        # Before the areas: where a role's many areas do not fit a narrow footer, an area key is cut, not Lock.
        Binding("f12", "lock", "Lock", id="lock"),
        *(Binding(a.key, f"goto('{a.mode}')", a.label, tooltip=a.title, id=f"goto_{a.mode}") for a in AREAS),
        # Not in the footer (room there is for the loop's keys); listed in help, the palette and the README.
        Binding("f9", "change_password", "Change password", show=False, id="change_password"),
        Binding("ctrl+l", "logout", "Log out", show=False, id="logout"),
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True),
    ]

    def __init__(self, settings: Settings, *, demo_logins: list[tuple[str, str, str]] | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.demo_logins = demo_logins or []
        self.runtime: Runtime | None = None
        self._session: WorkstationSession | None = None
        self._last_input = time.monotonic()
        self._locked = False
        # A temporary password: nothing opens until it is changed (the services refuse meanwhile too).
        self._password_change_pending = False
        self._installed_areas: list[str] = []
        self._collected_at = 0.0

    # --- wiring ------------------------------------------------------------------------------------

    def on_mount(self) -> None:
        loop = asyncio.get_running_loop()
        for each in STOP_SIGNALS:
            loop.add_signal_handler(each, self._stop_signal, each)
        self.theme = self.settings.theme
        if self.settings.keymap:
            self.set_keymap(self.settings.keymap)
        self.connect()
        self.set_interval(SESSION_CHECK_SECONDS, self._check_session)
        self.set_interval(IDLE_CHECK_SECONDS, self._check_idle)
        self.set_interval(COLLECT_AFTER_SECONDS, self._collect_in_pause)

    async def on_unmount(self) -> None:
        loop = asyncio.get_running_loop()
        for each in STOP_SIGNALS:
            loop.remove_signal_handler(each)
        await self._end_session_on_exit()
        if self.runtime is not None:
            await self.runtime.close()

    async def _end_session_on_exit(self) -> None:
        """Leaving the program ends the session and gives back its claims, whatever the way out: ctrl+q,
        a closed terminal (SIGHUP), a SIGTERM, or a browser tab closed (`refund-review serve` then asks
        the process to quit, or its input ends). Nobody can come back to a session whose process has
        gone, so its items must not wait for the claim to run out. A database that does not answer
        within a few seconds does not hold the exit: the claims then run out as they would after a crash.
        """
        if self._session is None:
            return
        from services.auth import logout

        with contextlib.suppress(ServiceError, TimeoutError):
            await asyncio.wait_for(logout(self.context), EXIT_LOGOUT_SECONDS)
        self._session = None

    def _stop_signal(self, signum: int) -> None:
        """Quit as ctrl+q does, with the shell's code for the signal, so the process exits normally
        (closing the database, letting the embedded server's clean-up run) instead of being killed."""
        log.warning("stopping on %s", signal.Signals(signum).name)
        self.exit(return_code=128 + signum)

    def _handle_exception(self, error: Exception) -> None:
        # Textual catches a crash to restore the terminal and prints it after: the error log must hold
        # it as well, and Textual has no public hook for that.
        log.critical("the workstation crashed", exc_info=error)
        super()._handle_exception(error)

    @work(exclusive=True, group="connect", exit_on_error=False)
    async def connect(self) -> None:
        """Open the database while the login screen is already on show."""
        from app.screens.login import Connected, ConnectionFailed

        try:
            self.runtime = await start_runtime(self.settings, workstation=True)
        except ServiceError as exc:
            self.screen.post_message(ConnectionFailed(exc.message))
            return
        self.screen.post_message(Connected(self.runtime.db.location))
        # While the person types their password, load what the first screen after login needs.
        self._warm_up()

    def _warm_up(self) -> None:
        for module in ("app.screens.queue", "app.screens.review", "app.screens.dashboard"):
            importlib.import_module(module)
        # What exists now (modules, the app) lives as long as the process: collected once while the
        # screen is idle, then frozen, a full collection no longer walks it between two keystrokes.
        gc.collect()
        gc.freeze()

    @property
    def session(self) -> WorkstationSession:
        """The current session; a worker or timer still running after the session ended gets a
        SessionExpired, which the screens handle like any ended session (not a crash)."""
        if self._session is None:
            raise SessionExpired("Nobody is logged in; log in to continue.")
        return self._session

    @property
    def context(self) -> ServiceContext:
        return self.session.context

    @property
    def logged_in(self) -> bool:
        return self._session is not None

    # --- signing in and out ------------------------------------------------------------------------

    async def signed_in(self, result: LoginResult) -> None:
        """After a successful login: the context for every service call, then the landing area.

        A temporary password is changed first: the dialog comes up over the login screen and the
        areas are installed only once it has been changed.
        """
        assert self.runtime is not None
        self._session = WorkstationSession(
            ServiceContext(db=self.runtime.db, actor=result.actor),
            on_end=self.session_ended,
            on_logout=self.action_logout,
        )
        self._last_input = time.monotonic()
        if result.must_change_password:
            from app.dialogs.change_password_dialog import ChangePasswordDialog

            self._password_change_pending = True
            self.push_screen(ChangePasswordDialog(forced=True), callback=self._temporary_password_changed)
            return
        await self._enter_areas()

    def _temporary_password_changed(self, user: object) -> None:
        if user is not None and self.logged_in:
            self._password_change_pending = False
            self.run_worker(self._enter_areas(), exclusive=True, group="enter", exit_on_error=False)

    async def _enter_areas(self) -> None:
        actor = self.session.user
        await self.session.refresh_settings()
        self.sub_title = f"{actor.username} ({actor.role})"
        landing = "queue" if actor.role == "reviewer" else "dashboard"
        from app.screens.registry import area_screen

        for area in AREAS:
            self.add_mode(area.mode, lambda mode=area.mode: area_screen(mode))
        self._installed_areas = [a.mode for a in AREAS]
        await self.switch_mode(landing)

    def session_ended(self, message: str) -> None:
        """The session is over (expired, revoked, logged out): back to the login screen."""
        self._session = None
        self._locked = False
        self._password_change_pending = False
        self.sub_title = ""
        # What the next person types goes to the login form once it is cleared and focused.
        self.hold_keys()
        self.run_worker(
            self._back_to_login(message), exclusive=True, group="session-end", exit_on_error=False
        )

    async def _back_to_login(self, message: str) -> None:
        from app.screens.login import LoginScreen

        try:
            await self.switch_mode(LOGIN_MODE)
            while len(self.screen_stack) > 1:
                await self.pop_screen()
            login = self.screen
            if isinstance(login, LoginScreen):
                login.start_again(message)
        finally:
            self.release_keys()
        # Each area's screens hold the previous user's data: they go with the session.
        for mode in self._installed_areas:
            await self.remove_mode(mode)
        self._installed_areas = []

    # --- keys --------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Areas, lock, logout and the password exist only for someone logged in (and not locked out);
        an area the role may not open is not offered at all (no f4-f6 in a reviewer's footer or palette),
        and while a temporary password waits to be changed, no area opens."""
        if action in {"goto", "lock", "logout", "change_password"}:
            if not self.logged_in or self._locked:
                return False
            if action == "goto" and self._password_change_pending:
                return False
            if action == "goto" and parameters:
                area = next((a for a in AREAS if a.mode == parameters[0]), None)
                return area is not None and allowed(self.session.user, area.permission)
        return True

    def on_key(self, event: events.Key) -> None:
        """An area key the role may not use is hidden from footer and palette; pressed, it says why."""
        area = next((a for a in AREAS if a.key == event.key), None)
        if (
            area is not None
            and self.logged_in
            and not self._locked
            and not allowed(self.session.user, area.permission)
        ):
            event.stop()
            self.notify(
                f"The {area.title.lower()} is not open to your role.", title="Not allowed", severity="warning"
            )

    def action_help(self) -> None:
        from app.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    async def action_goto(self, mode: str) -> None:
        if not self.logged_in or self._locked or self._password_change_pending:
            return
        area = next(a for a in AREAS if a.mode == mode)
        if not allowed(self.session.user, area.permission):
            self.notify(
                f"The {area.title.lower()} is not open to your role.", title="Not allowed", severity="warning"
            )
            return
        await self.switch_mode(mode)

    def action_lock(self) -> None:
        if self.logged_in and not self._locked:
            from app.screens.lock import LockScreen

            self._locked = True
            self.push_screen(LockScreen(), callback=self._unlocked)

    def action_change_password(self) -> None:
        from app.dialogs.change_password_dialog import ChangePasswordDialog

        if self.logged_in and not self._locked and not isinstance(self.screen, ChangePasswordDialog):
            self.push_screen(ChangePasswordDialog())

    def _unlocked(self, result: LoginResult | None) -> None:
        self._locked = False
        self._last_input = time.monotonic()
        if result is not None and self.runtime is not None and self._session is not None:
            self._session.context = ServiceContext(db=self.runtime.db, actor=result.actor)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if not self.logged_in:
            return
        if not self._locked:
            for area in AREAS:
                if allowed(self.session.user, area.permission) and not self._password_change_pending:
                    yield SystemCommand(area.title, f"Go to the {area.title.lower()} ({area.key})",
                                        lambda mode=area.mode: self.run_worker(self.action_goto(mode)))  # fmt: skip
            yield SystemCommand(
                "Lock screen", "Lock the workstation until you type your password (f12)", self.action_lock
            )
            yield SystemCommand(
                "Change password",
                "Choose a new password; your other sessions end (f9)",
                self.action_change_password,
            )
        yield SystemCommand("Log out", "End this session (ctrl+l)", self.action_logout)

    def action_logout(self) -> None:
        self.run_worker(self._logout(), exclusive=True, group="logout", exit_on_error=False)

    async def _logout(self) -> None:
        """End the session; the service gives back the person's claimed items in the same transaction."""
        from services.auth import logout

        if self.logged_in:
            # The session is gone either way; the login screen follows.
            with contextlib.suppress(ServiceError):
                await logout(self.context)
        self.session_ended("You have logged out.")

    # --- idle lock and session checks --------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown | events.MouseScrollDown | events.MouseScrollUp):
            self._last_input = time.monotonic()
        await super().on_event(event)

    def _collect_in_pause(self) -> None:
        """Collect the garbage while the reviewer reads, not in the middle of a keystroke.

        Textual leaves cyclic garbage behind on every screen change and redraw (virtual nodes for
        component styles, table rows); Python frees it in full collections of 40-60 ms that, left to
        themselves, fall inside a keystroke every few items. A reviewer reads each contract for
        seconds: one collection in that pause, once per burst of keys, keeps the counters low enough
        that the automatic ones rarely come.
        """
        quiet = time.monotonic() - self._last_input
        if self._collected_at < self._last_input and quiet >= COLLECT_AFTER_SECONDS:
            gc.collect()
            self._collected_at = time.monotonic()

    def _check_idle(self) -> None:
        idle = time.monotonic() - self._last_input
        if self.logged_in and not self._locked and idle >= self.session.settings.idle_timeout_minutes * 60:
            self.action_lock()

    @work(exclusive=True, group="session-check", exit_on_error=False)
    async def _check_session(self) -> None:
        if not self.logged_in or self._locked:
            return
        try:
            await validate_session(self.context)
        except SessionExpired as exc:
            self.session_ended(exc.message)
        except ServiceError:
            # The database did not answer: no reason to log anyone out; the next check tries again.
            return


def make_app(settings: Settings, *, demo_logins: list[tuple[str, str, str]] | None = None) -> RefundReviewApp:
    """The one factory: the command line, the demo and every Pilot test build the app here."""
    return RefundReviewApp(settings, demo_logins=demo_logins)
