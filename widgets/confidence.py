"""A confidence of 0-100 as a coloured bar, for tables and field cards alike."""

from __future__ import annotations

from rich.text import Text

BLOCKS = " ▏▎▍▌▋▊▉█"


def confidence_style(confidence: int, threshold: int) -> str:
    """Red well below the threshold, amber just below it, green at or above."""
    if confidence >= threshold:
        return "green"
    if confidence >= threshold - 20:
        return "yellow"
    return "red"


def confidence_bar(confidence: int, threshold: int, width: int = 10) -> Text:
    """`█████▌    62`: eighth-block precision, the number after it, coloured by the threshold."""
    confidence = max(0, min(100, confidence))
    eighths = round(confidence * width * 8 / 100)
    full, part = divmod(eighths, 8)
    bar = "█" * full + (BLOCKS[part] if part else "")
    text = Text(bar.ljust(width), style=confidence_style(confidence, threshold))
    text.append(f" {confidence:>3}", style="bold" if confidence < threshold else "")
    return text
