"""The review screen: fields on the left, the contract on the right, the source highlighted.

The whole triage loop is single keys: `a` approves and brings the next item,
`n` skips to the next one (giving this one back), `e` corrects the selected
field, `x` rejects, `u` undoes the last decision while the next item is on
screen. The screen is reused from item to item (no new screen per contract),
which keeps `a`/`n` to a fully drawn next item within a frame or two.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Awaitable
from typing import TypeVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Header, OptionList, Static

from app.dialogs.correction_dialog import CorrectionDialog, CorrectionRequest
from app.screens.base import WorkstationScreen
from services.errors import Conflict
from services.permissions import Permission, allowed
from services.review import (
    NO_FILTER,
    REJECTION_REASONS,
    Decision,
    ExtractionDetail,
    FieldDetail,
    QueueFilter,
    approve,
    claim_next,
    correct_field,
    get_detail,
    reject,
    release,
    reopen,
    undo_last_decision,
)
from widgets.document_view import DocumentView
from widgets.field_list import FieldList, FieldView
from widgets.key_footer import KeyFooter
from widgets.plain import notify_plain, plain, shown
from widgets.values import NOT_YET_EXTRACTED, sentence_case, shown_value

T = TypeVar("T")


def field_view(
    field: FieldDetail, *, confidence_hidden: bool = False, flags: tuple[str, ...] = ()
) -> FieldView:
    source = field.source
    return FieldView(
        name=field.name,
        label=sentence_case(field.label),
        value=shown_value(field.value, field.name) if field.extracted else NOT_YET_EXTRACTED,
        confidence=field.confidence,
        threshold=field.threshold,
        alignment=None if source is None else source.alignment,
        note=None if source is None else source.note,
        corrected=field.corrected,
        confidence_hidden=confidence_hidden,
        flags=flags,
    )


def refund_panel(detail: ExtractionDetail) -> Text:
    """ "If cancelled today: $X by Pro-Rata; fee $Y (Arkansas cap $75.00); refund $Z", and `m` for the steps."""
    preview = detail.refund
    if preview is None:
        return Text("No refund preview: the contract has no date to count its term from.", style="dim")
    panel = plain(preview.headline, style="bold")
    panel.append("  m steps", style="dim")
    return panel


def weakest_field(detail: ExtractionDetail) -> int:
    """The index of the field with the lowest confidence (the first of equals), where review starts.

    A pending QA item starts on the first field: starting on the weakest would hint at its confidence.
    """
    if detail.confidence_hidden:
        return 0
    # A field not yet extracted has no confidence and is not where doubt lies.
    return min(range(len(detail.fields)), key=lambda index: _doubt(detail.fields[index]))


def _doubt(field: FieldDetail) -> int:
    """The confidence of a field that counts in the weakest-field order; after them, the others."""
    if field.confidence is None:
        return 1000
    return field.confidence if field.weighed else 200 + field.confidence


def source_caption(field: FieldDetail) -> Text:
    source = field.source
    if source is None:
        return Text(f"{sentence_case(field.label)}: no source in the contract text", style="yellow")
    where = Text(f"{sentence_case(field.label)} — page {source.page}, line {source.line}")
    if source.section:
        where.append(f" · {shown(source.section)}", style="bold")
    alignment = source.alignment
    if alignment == "fuzzy":
        where.append(" · fuzzy match", style="yellow")
    elif alignment == "unaligned":
        where.append(" · quote NOT found in the text", style="bold red")
    return where


def source_span(field: FieldDetail) -> tuple[int, int] | None:
    """The stored-text span a value was read from; None when there is none or it is not in the text."""
    source = field.source
    if source is None or source.alignment == "unaligned" or source.end <= source.start:
        return None
    return source.start, source.end


class ReviewScreen(WorkstationScreen):
    """One extraction under review; decisions move straight on to the next item."""

    BINDINGS = [
        Binding("a", "approve", "Approve", id="approve"),
        Binding("n", "skip", "Skip", id="skip"),
        Binding("e", "correct", "Correct", id="correct"),
        Binding("x", "reject", "Reject", id="reject"),
        Binding("u", "undo", "Undo", id="undo"),
        Binding("c", "chat", "Chat", id="chat"),
        Binding("h", "history", "History", id="history"),
        Binding("o", "reopen", "Reopen", id="reopen"),
        # Pressed when the key above is not on offer (the item is decided, the role may not reopen):
        # a sentence saying why, rather than nothing at all.
        *(
            Binding(key, f"why_not('{action}')", show=False, id=f"why_not_{action}")
            for key, action in (("a", "approve"), ("x", "reject"), ("e", "correct"), ("o", "reopen"))
        ),
        Binding("tab", "next_field", "Next field", show=False, priority=True, id="tab_next_field"),
        Binding(
            "shift+tab",
            "previous_field",
            "Previous field",
            show=False,
            priority=True,
            id="tab_previous_field",
        ),
        # Priority: the focused field list would otherwise take them to move between fields.
        Binding(
            "pagedown", "scroll_document(1)", "Page down", show=False, priority=True, id="document_page_down"
        ),
        Binding("pageup", "scroll_document(-1)", "Page up", show=False, priority=True, id="document_page_up"),
        Binding("g", "show_source", "Source", id="show_source"),
        Binding("m", "refund_preview", "Refund", id="refund_preview"),
        Binding("r", "reload", "Reload", show=False, id="reload_item"),
        Binding("escape", "back", "Back to queue", id="back"),
    ]

    def __init__(self, detail: ExtractionDetail, *, wanted: QueueFilter = NO_FILTER) -> None:
        super().__init__()
        self.detail = detail
        # The queue filter this screen was opened through: `a` and `n` bring the next item it lets through.
        self.wanted = wanted
        # Who this screen was opened for: its keys are decided from it, so that redrawing them after the
        # session has ended (logout, expiry) never needs a session.
        self.actor = self.ctx.actor
        self._shown_contract: str | None = None
        self._shown_item: uuid.UUID | None = None
        self._footer_state: tuple[bool, ...] = ()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="review-title")
        with Horizontal(id="review-body"):
            with Vertical(id="review-left"):
                yield FieldList(id="fields")
                yield Static(id="refund-panel")
                yield Static(id="field-quote")
                yield Static(id="review-meta")
            with Vertical(id="review-right"):
                yield Static(id="span-location")
                yield DocumentView(id="document")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.show(self.detail)
        self.query_one(FieldList).focus()

    # --- drawing -----------------------------------------------------------------------------------

    def show(self, detail: ExtractionDetail) -> None:
        """Draw an item; the document is reloaded only when the contract changes."""
        self.detail = detail
        vehicle = detail.vehicle_info
        car = " ".join(str(vehicle[k]) for k in ("year", "make", "model") if vehicle.get(k))
        status = {"pending": "pending review", "approved": "APPROVED", "rejected": "REJECTED"}[detail.status]
        title = Text.assemble(
            (detail.contract_id, "bold"), shown(f"  ·  {detail.customer_name}  ·  account {detail.account_number}"),
            shown(f"  ·  {car}") if car else "", shown(f"  ·  VIN {vehicle['vin']}") if vehicle.get("vin") else "",
            "  ·  ", (status, "bold" if detail.status == "pending" else "bold magenta"),
        )  # fmt: skip
        if detail.qa_sample:
            title.append("  ·  QA", style="bold cyan")
        if detail.claim is not None:
            holder = "you" if detail.claimed_by(self.actor.user_id) else detail.claim.username
            left = math.ceil((detail.claim.expires_at - detail.as_of).total_seconds() / 60)
            title.append(f"  ·  held by {holder}, {max(left, 0)} min left", style="dim")
        self.query_one("#review-title", Static).update(title)
        # A new item opens on its weakest field, wherever the previous one was left.
        new_item = self._shown_item != detail.extraction_id
        self._shown_item = detail.extraction_id
        checks = () if detail.refund is None else detail.refund.checks
        self.query_one(FieldList).show(
            [
                field_view(
                    f,
                    confidence_hidden=detail.confidence_hidden,
                    flags=tuple(check.text for check in checks if check.field == f.name),
                )
                for f in detail.fields
            ],
            highlight=weakest_field(detail) if new_item else None,
        )
        self.query_one("#refund-panel", Static).update(refund_panel(detail))
        if self._shown_contract != detail.contract_id:
            self.query_one(DocumentView).show_document(detail.document_text or "(this contract has no text)")
            self._shown_contract = detail.contract_id
        self.query_one("#review-meta", Static).update(self._meta(detail))
        self._follow_field()
        # Redrawing the footer is the most expensive thing on this screen: only when its keys change.
        enabled = self._enabled_actions()
        if enabled != self._footer_state:
            self._footer_state = enabled
            self.refresh_bindings()

    @staticmethod
    def _meta(detail: ExtractionDetail) -> Text:
        meta = Text(
            f"{detail.llm_provider} · {detail.model_version} · {detail.processing_time_ms} ms", style="dim"
        )
        if detail.cost_usd:
            meta.append(f" · ${detail.cost_usd:.4f}", style="dim")
        if detail.fallback_from:
            meta.append(
                shown(f"\n{detail.fallback_from} failed ({detail.fallback_reason}); rules stood in"),
                style="yellow",
            )
        if detail.corrections:
            count = len(detail.corrections)
            meta.append(f"\n{count} correction{'' if count == 1 else 's'} — h shows them", style="cyan")
        if detail.rejection_reason:
            meta.append(shown(f"\nRejected: {detail.rejection_reason}"), style="magenta")
        return meta

    @property
    def selected_field(self) -> FieldDetail:
        index = self.query_one(FieldList).highlighted or 0
        return self.detail.fields[index]

    def _follow_field(self) -> None:
        field = self.selected_field
        document = self.query_one(DocumentView)
        self.query_one("#span-location", Static).update(source_caption(field))
        quote = self.query_one("#field-quote", Static)
        source = field.source
        if source is not None and source.quote:
            quote.update(plain(f"“{source.quote}”", style="italic"))
        else:
            quote.update(Text("No quote recorded for this value.", style="dim"))
        span = source_span(field)
        if span is not None:
            document.highlight(*span)
        else:
            document.clear_highlight()

    @on(OptionList.OptionHighlighted, "#fields")
    def _field_moved(self) -> None:
        self._follow_field()

    @on(OptionList.OptionSelected, "#fields")
    def _field_chosen(self) -> None:
        self.action_correct()

    # --- keys that need no service -----------------------------------------------------------------

    def action_next_field(self) -> None:
        self.query_one(FieldList).action_cursor_down()

    def action_previous_field(self) -> None:
        self.query_one(FieldList).action_cursor_up()

    def action_scroll_document(self, pages: int) -> None:
        document = self.query_one(DocumentView)
        document.scroll_relative(y=pages * max(document.size.height - 2, 1), animate=False)

    def action_show_source(self) -> None:
        self._follow_field()

    def _enabled_actions(self) -> tuple[bool, ...]:
        return tuple(bool(self.check_action(a, ())) for a in ("approve", "reopen", "undo"))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        pending = self.detail.status == "pending"
        if action in {"approve", "reject", "correct"}:
            return pending
        if action == "reopen":
            return not pending and allowed(self.actor, Permission.REOPEN)
        if action == "undo":
            # Shown (dimmed) even with nothing to undo: it is one of the loop's keys.
            undoable = self.workstation.logged_in and self.session.last_decision is not None
            return True if undoable else None
        return True

    def action_why_not(self, action: str) -> None:
        """Say why a decision key did nothing: the item is decided already, or the role may not reopen."""
        detail = self.detail
        if action == "reopen":
            if detail.status == "pending":
                message = f"{detail.contract_id} is pending review: there is nothing to reopen."
            else:
                message = "Only a supervisor or an admin can reopen a decided contract."
        else:
            by = f" by {detail.reviewed_by}" if detail.reviewed_by else ""
            then = (" — press o to reopen it" if allowed(self.actor, Permission.REOPEN)
                    else "; a supervisor can reopen it")  # fmt: skip
            message = f"{detail.contract_id} is already {detail.status}{by}{then}."
        self.notify(message, title="Nothing done", severity="warning", timeout=6)

    # --- decisions ---------------------------------------------------------------------------------

    @work(exclusive=True, group="decide", exit_on_error=False)
    async def action_approve(self) -> None:
        decision = await self._guarded(approve(self.ctx, self.detail.extraction_id, self.detail.version))
        if decision is not None:
            self._decided(decision, "Approved")
            await self._next()

    def action_reject(self) -> None:
        from app.dialogs.reason_dialog import ReasonDialog

        question = "Why is this extraction rejected? Press its number, then enter."
        self.app.push_screen(
            ReasonDialog(f"Reject {self.detail.contract_id}", question, REJECTION_REASONS),
            callback=self._reject_with,
        )

    def _reject_with(self, reason: str | None) -> None:
        if reason:
            self._reject(reason)

    @work(exclusive=True, group="decide", exit_on_error=False)
    async def _reject(self, reason: str) -> None:
        decision = await self._guarded(
            reject(self.ctx, self.detail.extraction_id, self.detail.version, reason)
        )
        if decision is not None:
            self._decided(decision, "Rejected")
            await self._next()

    def _decided(self, decision: Decision, verb: str) -> None:
        if decision.double_check:
            # Back in the queue for a second reviewer: nothing of one's own is left to undo.
            self.session.last_decision = None
            notify_plain(
                self,
                f"{verb} {decision.contract_id}. It was drawn for a double check by a second reviewer.",
                timeout=4,
            )
            return
        self.session.last_decision = decision
        self._footer_state = ()  # undo is now on offer
        notify_plain(self, f"{verb} {decision.contract_id}. Press u to undo.", timeout=4)

    @work(exclusive=True, group="decide", exit_on_error=False)
    async def action_skip(self) -> None:
        skipped = self.detail.extraction_id
        if self.detail.claimed_by(self.ctx.actor.user_id):
            await release(self.ctx, skipped)
        await self._next(skip=[skipped])

    async def _next(self, skip: list[uuid.UUID] | None = None) -> None:
        detail = await claim_next(self.ctx, skip=skip or [], wanted=self.wanted)
        if detail is None:
            self.notify(
                "The queue is empty — every pending item is decided or held by someone.", title="All done"
            )
            self.dismiss(None)
            return
        self.show(detail)

    @work(exclusive=True, group="decide", exit_on_error=False)
    async def action_undo(self) -> None:
        last = self.session.last_decision
        if last is None:
            return
        if self.detail.extraction_id != last.extraction_id and self.detail.claimed_by(self.ctx.actor.user_id):
            await release(self.ctx, self.detail.extraction_id)
        detail = await self._guarded(undo_last_decision(self.ctx, last.extraction_id, last.version))
        if detail is not None:
            self.session.last_decision = None
            notify_plain(self, f"Undone: {detail.contract_id} is pending again and yours.", timeout=4)
            self.show(detail)

    def action_reopen(self) -> None:
        from app.dialogs.reason_dialog import ReasonDialog

        self.app.push_screen(
            ReasonDialog(f"Reopen {self.detail.contract_id}", "Why must it be reviewed again?"),
            callback=lambda reason: self._reopen(reason) if reason else None,
        )

    @work(exclusive=True, group="decide", exit_on_error=False)
    async def _reopen(self, reason: str) -> None:
        decision = await self._guarded(
            reopen(self.ctx, self.detail.extraction_id, self.detail.version, reason)
        )
        if decision is not None:
            notify_plain(self, f"Reopened {decision.contract_id}; it is back in the queue.")
            self.show(await get_detail(self.ctx, self.detail.extraction_id))

    def action_correct(self) -> None:
        if self.detail.status != "pending":
            return
        field = self.selected_field
        # The dialog docks at the bottom: the source line goes near the top, where it stays in view.
        self.query_one(DocumentView).scroll_to_span(near_top=True)

        def apply(request: CorrectionRequest | None) -> None:
            if request is not None:
                self._correct(field.name, request)

        self.app.push_screen(
            CorrectionDialog(
                field,
                require_reason=self.session.settings.require_correction_reason,
                confidence_hidden=self.detail.confidence_hidden,
            ),
            callback=apply,
        )

    @work(exclusive=True, group="decide", exit_on_error=False)
    async def _correct(self, field: str, request: CorrectionRequest) -> None:
        detail = await self._guarded(
            correct_field(
                self.ctx,
                self.detail.extraction_id,
                self.detail.version,
                field,
                request.value,
                request.reason_code,
                request.note,
            )
        )
        if detail is not None:
            notify_plain(self, f"Corrected {field.replace('_', ' ')}.", timeout=3)
            self.show(detail)

    @work(exclusive=True, group="decide", exit_on_error=False)
    async def action_reload(self) -> None:
        """Read the item again: after a save whose read-back failed, this shows what was stored."""
        self.show(await get_detail(self.ctx, self.detail.extraction_id))

    async def _guarded(self, call: Awaitable[T]) -> T | None:
        """Run a write; on a conflict say so plainly and reload what is true now."""
        try:
            return await call
        except Conflict as exc:
            notify_plain(self, exc.message, title="Changed by someone else", severity="warning", timeout=10)
            self.show(await get_detail(self.ctx, self.detail.extraction_id))
            return None

    # --- other screens -----------------------------------------------------------------------------

    def action_chat(self) -> None:
        from app.screens.chat import ChatScreen

        span = source_span(self.selected_field)
        self.app.push_screen(ChatScreen(self.detail.contract_id, self.detail.document_text or "", span))

    def action_refund_preview(self) -> None:
        from app.dialogs.refund_preview_dialog import RefundPreviewDialog

        if self.detail.refund is None:
            self.notify(
                "No refund preview: the contract has no date to count its term from.", severity="warning"
            )
            return
        self.app.push_screen(RefundPreviewDialog(self.detail.contract_id, self.detail.refund))

    def action_history(self) -> None:
        from app.dialogs.history_dialog import HistoryDialog

        self.app.push_screen(HistoryDialog(self.detail))

    @work(exclusive=True, group="decide", exit_on_error=False)
    async def action_back(self) -> None:
        if self.detail.status == "pending" and self.detail.claimed_by(self.ctx.actor.user_id):
            await release(self.ctx, self.detail.extraction_id)
        self.dismiss(None)


class ResultReviewScreen(ReviewScreen):
    """The review screen opened from search results: Escape goes back to them, and says so."""

    BINDINGS = [Binding("escape", "back", "Back to results", id="back")]
