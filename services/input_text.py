"""Text from outside, cleaned once where it enters: typed text, document text, and the contract id format.

Every string the product stores came from a person, a file or a provider. What each class of character
becomes (the README's "Untrusted text" says the same for users):

- Control characters (C0, DEL and the C1 range U+0080–U+009F) other than newline, tab and form feed:
  a terminal escape (``ESC [ 2 J``, ``ESC ] 0 ; … BEL``, OSC 52, DCS) starts with one of them, so none is
  ever stored. In typed text they are removed: the person who typed is there and sees what is kept. In a
  document they become U+FFFD one for one, so that the offsets of source spans into the stored text stay
  right and a reviewer sees that the contract had something there.
- Format characters (Unicode category Cf: zero-width spaces and joiners, the byte-order mark, bidi
  embeddings, overrides and isolates U+202A–U+202E and U+2066–U+2069): invisible, and a bidi override
  makes text read differently from what it is ("Trojan Source"). Removed from typed text; U+FFFD one for
  one in documents, for the same reasons as control characters.
- Lone surrogates (what a broken copy and paste or invalid UTF-8 passed through ``surrogateescape``
  leaves): refused in typed text with a sentence, U+FFFD in documents. PostgreSQL could not store them.
- Lengths: every typed text has a bound and a sentence saying it; text far beyond it is refused before
  any cleaning work is spent on it.

Markup is not a concern here: nothing in ``services`` renders, and the screens show data as plain text.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import unicodedata

from services.errors import InvalidInput

CONTRACT_ID_FORMAT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
PLACEHOLDER = "\ufffd"
"""What a character that must not be stored becomes in a document (REPLACEMENT CHARACTER)."""
KEPT_CONTROLS = "\n\t\f"
_SURROGATE = re.compile("[\ud800-\udfff]")
_BROKEN = (
    "{what} contains a broken character (half of a UTF-16 pair, as a damaged copy and paste leaves); "
    "type it again or paste it from the source once more."
)


@functools.cache
def _hidden_code_points() -> tuple[int, ...]:
    """Every control (Cc), format (Cf) and surrogate (Cs) code point, from the running Python's tables.

    Planes 0, 1 and 14 hold all of them (the others are ideographs and private use), so only those are
    scanned: a newer Unicode's format characters are covered without a hand-kept list, once per process.
    """
    return tuple(
        code
        for plane in (0, 1, 14)
        for code in range(plane << 16, (plane + 1) << 16)
        if unicodedata.category(chr(code)) in {"Cc", "Cf", "Cs"}
    )


@functools.cache
def _hidden(keep: str) -> re.Pattern[str]:
    """A character class matching the hidden characters, except those in `keep`."""
    ranges: list[str] = []
    start = previous = -2
    for code in _hidden_code_points():
        if chr(code) in keep:
            continue
        if code != previous + 1:
            if start >= 0:
                ranges.append(_range(start, previous))
            start = code
        previous = code
    ranges.append(_range(start, previous))
    return re.compile(f"[{''.join(ranges)}]")


def _range(first: int, last: int) -> str:
    return re.escape(chr(first)) if first == last else f"{re.escape(chr(first))}-{re.escape(chr(last))}"


def without_control_characters(text: str, *, keep: str = "", replacement: str = "") -> str:
    """`text` with control, format and surrogate characters replaced (characters in `keep` stay)."""
    return _hidden(keep).sub(replacement, text)


def document_text(text: str) -> str:
    """A document's text as stored and shown: every hidden character becomes U+FFFD, one for one.

    Line breaks must already be ``\\n`` (readers normalise them first); the length never changes, so an
    offset computed on the result points at the same character a reviewer sees.
    """
    return without_control_characters(text, keep=KEPT_CONTROLS, replacement=PLACEHOLDER)


def typed_text(raw: str, *, what: str, max_chars: int, multiline: bool = False) -> str:
    """Text a person typed (a note, a reason, a question, a setting), cleaned; InvalidInput when refused.

    Control and format characters are removed; a one-line text has every run of white space (line breaks
    and tabs included) turned into one space, a multi-line one keeps its lines and tabs. Leading and
    trailing space is dropped.
    The result may be empty: whether empty is allowed is the caller's rule. `what` names the text in the
    sentences ("The note", "A reason").
    """
    if len(raw) > 4 * max_chars:
        raise InvalidInput(_too_long(what, max_chars, len(raw)))
    if _SURROGATE.search(raw):
        raise InvalidInput(_BROKEN.format(what=what))
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    if multiline:
        text = without_control_characters(text, keep="\n\t").strip()
    else:
        text = " ".join(without_control_characters(text, keep="\n\t\f").split())
    if len(text) > max_chars:
        raise InvalidInput(_too_long(what, max_chars, len(text)))
    return text


def has_hidden_characters(value: str) -> bool:
    """Whether `value` holds a control, format or surrogate character (tab and newline included).

    For names and identifiers (a user's name and email, a manifest's customer and vehicle): changing them
    silently would store another name than the one given, so callers refuse them with a sentence instead.
    """
    return _hidden("").search(value) is not None


def _too_long(what: str, max_chars: int, length: int) -> str:
    return f"{what} can be at most {max_chars:,} characters (this one has {length:,}); shorten it."


def contract_id(raw: str) -> str:
    """A contract id as typed, checked against the stored format; InvalidInput otherwise."""
    wanted = raw.strip()
    if not CONTRACT_ID_FORMAT.fullmatch(wanted):
        raise InvalidInput(f"{wanted[:40]!r} is not a contract id; ids look like GAP-2024-001001.")
    return wanted


def inet_address(text: str | None) -> str | None:
    """An address from outside (SSH_CLIENT, a browser's connection) as PostgreSQL's inet takes it; None
    when it is not one, so that a malformed address never makes logging in or auditing impossible. An
    IPv6 zone (``fe80::1%eth0``) is dropped: inet has no place for it."""
    if not text:
        return None
    try:
        return str(ipaddress.ip_address(text.split("%", 1)[0].strip()))
    except ValueError:
        return None
