"""Vehicle Identification Numbers that pass the ISO 3779 / 49 CFR 565 check digit.

The generated VINs must survive the same validation a real one does (search
by VIN, any future VIN decoding), so position 9 is a real check digit and the
first three characters are a World Manufacturer Identifier of a plant that
builds the make. Positions 4–8 (the vehicle descriptor section) are derived
from the model and trim with a stable digest, so that two contracts for the
same model and trim share a descriptor, as they do in real life.

The compact generator builds a million VINs in seconds, so the weighted sum is
split into precomputable parts: :class:`VinPrefix` carries the sum of the first
eight positions, and :data:`SERIAL_HIGH_SUMS` / :data:`SERIAL_LOW_SUMS` the
sums of the six serial digits in two halves.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

VIN_ALPHABET = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
"""The characters allowed in a VIN: I, O and Q are excluded because they read as 1 and 0."""

_TRANSLITERATION: dict[str, int] = {
    **{str(d): d for d in range(10)},
    "A": 1, "B": 2, "C": 3, "D": 4, "E": 5, "F": 6, "G": 7, "H": 8,
    "J": 1, "K": 2, "L": 3, "M": 4, "N": 5, "P": 7, "R": 9,
    "S": 2, "T": 3, "U": 4, "V": 5, "W": 6, "X": 7, "Y": 8, "Z": 9,
}  # fmt: skip
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)

# Model-year codes (position 10) repeat every 30 years; the cycle that starts with A in 2010 covers
# every vehicle this product can see.
_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"
_FIRST_CODED_YEAR = 2010


def check_digit(vin: str) -> str:
    """Return the check character for ``vin`` (position 9 of the input is ignored)."""
    if len(vin) != 17:
        raise ValueError(f"a VIN has 17 characters, not {len(vin)}: {vin!r}")
    total = sum(_TRANSLITERATION[c] * w for c, w in zip(vin.upper(), _WEIGHTS, strict=True))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def is_valid_vin(vin: str) -> bool:
    """True when ``vin`` has 17 legal characters and a correct check digit at position 9."""
    if len(vin) != 17 or any(c not in _TRANSLITERATION for c in vin.upper()):
        return False
    return vin[8].upper() == check_digit(vin)


def model_year_code(year: int) -> str:
    """The position-10 character for a model year from 2010 to 2039."""
    index = year - _FIRST_CODED_YEAR
    if not 0 <= index < len(_YEAR_CODES):
        raise ValueError(f"no model-year code for {year}")
    return _YEAR_CODES[index]


def descriptor(make: str, model: str, trim: str | None) -> str:
    """Positions 4–8 for a make, model and trim: stable across runs and machines (no salted ``hash``)."""
    digest = hashlib.blake2b(f"{make}|{model}|{trim or ''}".encode(), digest_size=5).digest()
    return "".join(VIN_ALPHABET[b % len(VIN_ALPHABET)] for b in digest)


class VinPrefix(NamedTuple):
    """The first eight characters of a VIN and their share of the check-digit sum."""

    text: str
    weighted_sum: int


def vin_prefix(wmi: str, make: str, model: str, trim: str | None) -> VinPrefix:
    """Prefix (WMI + descriptor) of every VIN of this model and trim from this plant."""
    if len(wmi) != 3:
        raise ValueError(f"a WMI has 3 characters: {wmi!r}")
    text = (wmi + descriptor(make, model, trim)).upper()
    return VinPrefix(text, sum(_TRANSLITERATION[c] * w for c, w in zip(text, _WEIGHTS[:8], strict=True)))


def year_part(year: int) -> tuple[str, int]:
    """Position 10 and its share of the check-digit sum."""
    code = model_year_code(year)
    return code, _TRANSLITERATION[code] * _WEIGHTS[9]


def plant_part(plant: str) -> tuple[str, int]:
    """Position 11 (assembly plant) and its share of the check-digit sum."""
    return plant, _TRANSLITERATION[plant] * _WEIGHTS[10]


def _digit_sums(weights: tuple[int, int, int]) -> tuple[int, ...]:
    return tuple(
        (n // 100) * weights[0] + (n // 10 % 10) * weights[1] + (n % 10) * weights[2] for n in range(1000)
    )


SERIAL_HIGH_SUMS: tuple[int, ...] = _digit_sums(_WEIGHTS[11:14])
"""Check-digit share of serial positions 12–14, indexed by their three digits as a number."""
SERIAL_LOW_SUMS: tuple[int, ...] = _digit_sums(_WEIGHTS[14:17])
"""Check-digit share of serial positions 15–17, indexed by their three digits as a number."""

CHECK_CHARS = "0123456789X"
"""Check character by ``weighted sum % 11``."""


def make_vin(prefix: VinPrefix, year: int, plant: str, serial: int) -> str:
    """Assemble a valid VIN from its parts; ``serial`` is the 6-digit production number."""
    if not 0 <= serial < 1_000_000:
        raise ValueError(f"the serial number has 6 digits: {serial}")
    year_code, year_sum = year_part(year)
    plant_code, plant_sum = plant_part(plant)
    high, low = divmod(serial, 1000)
    total = prefix.weighted_sum + year_sum + plant_sum + SERIAL_HIGH_SUMS[high] + SERIAL_LOW_SUMS[low]
    return f"{prefix.text}{CHECK_CHARS[total % 11]}{year_code}{plant_code}{serial:06d}"
