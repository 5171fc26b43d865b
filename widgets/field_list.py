"""The extracted fields of one contract as a keyboard-navigable list of cards."""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Group
from rich.text import Text
from textual.binding import Binding
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from widgets.confidence import confidence_bar
from widgets.plain import plain


@dataclass(frozen=True)
class FieldView:
    """What a field card shows; built by the screen from the service's model."""

    name: str
    label: str
    value: str
    # None: not yet extracted (the extraction predates the field).
    confidence: int | None
    threshold: int
    alignment: str | None
    note: str | None
    corrected: bool
    # A pending QA item: no figure, no bar, no below-threshold emphasis (nothing to anchor the reviewer).
    confidence_hidden: bool = False
    # Findings about the value against the state's rule (a fee above its cap, a method it does not allow).
    flags: tuple[str, ...] = ()


CONFIDENCE_HIDDEN = "confidence hidden (QA)"


class FieldList(OptionList):
    """One card per field: label, value, confidence bar, and whether the value is grounded or corrected.

    Highlighting a card posts OptionList.OptionHighlighted; the screen moves the
    document's highlight to that field's source.
    """

    BINDINGS = [
        # The footer shows j for both, as "j/k" (k alone would only repeat it).
        Binding("j", "cursor_down", "Next field", key_display="j/k", id="next_field"),
        Binding("k", "cursor_up", "Previous field", show=False, id="previous_field"),
    ]

    def show(self, fields: list[FieldView], *, highlight: int | None = None) -> None:
        """Draw the cards; the highlight stays where it was unless `highlight` says where it goes."""
        highlighted = highlight if highlight is not None else self.highlighted or 0
        self.clear_options()
        self.add_options(Option(self._card(f), id=f.name) for f in fields)
        self.highlighted = min(highlighted, len(fields) - 1) if fields else None

    @staticmethod
    def _card(field: FieldView) -> Group:
        title = plain(field.label, style="bold")
        if field.corrected:
            title.append("  ✎ corrected", style="cyan")
        weak = (
            field.confidence is not None
            and field.confidence < field.threshold
            and not field.confidence_hidden
        )
        value = plain(field.value, style="bold reverse" if weak else "bold")
        if field.confidence is None:
            # Not yet extracted: no confidence to hide or show, no source to ground; re-extraction reads it.
            facts = Text("no confidence: not read by this extraction", style="dim italic")
            return Group(title, Text("  ").append(value), Text("  ").append(facts))
        if field.confidence_hidden:
            facts = Text(CONFIDENCE_HIDDEN, style="dim italic")
        else:
            facts = confidence_bar(field.confidence, field.threshold)
        if field.alignment != "unaligned" and field.alignment is not None and field.note:
            # Grounding found the quote but doubts the value in it (a partial or damaged amount, a method
            # the wording does not settle): the note below says why, "in text" would claim too much.
            facts.append("  ? quote found, value in doubt", style="yellow")
        elif field.alignment == "exact":
            facts.append("  ✓ in text", style="green")
        elif field.alignment == "fuzzy":
            facts.append("  ≈ fuzzy match", style="yellow")
        else:
            facts.append("  ✗ not in text", style="red")
        lines: list[Text] = [title, Text("  ").append(value), Text("  ").append(facts)]
        if field.note:
            lines.append(plain(f"  ⚠ {field.note}", style="yellow"))
        lines += [plain(f"  ⚑ {flag}", style="bold red") for flag in field.flags]
        return Group(*lines)
