"""Validation and normalisation of a participant's identity fields (SPEC §2).

Each ``check_*`` returns the normalised value or raises ``ValueError`` whose text is
a message key (see ``messages``) naming what is wrong.
"""

from __future__ import annotations

import datetime as dt
import re

import phonenumbers

# Kemendagri province codes, including the 2022 Papua provinces (93-96).
PROVINCE_CODES = frozenset(
    {
        11,
        12,
        13,
        14,
        15,
        16,
        17,
        18,
        19,
        21,
        31,
        32,
        33,
        34,
        35,
        36,
        51,
        52,
        53,
        61,
        62,
        63,
        64,
        65,
        71,
        72,
        73,
        74,
        75,
        76,
        81,
        82,
        91,
        92,
        93,
        94,
        95,
        96,
    }
)
# Words of letters joined by runs of " .'-", optionally ending in a dot. Each word needs a
# letter, so the pattern cannot backtrack exponentially on a long run of punctuation.
_NAME = re.compile(r"[^\W\d_]+(?:[ .'\-]+[^\W\d_]+)*\.?")
# ASCII digits only: str.isdigit and \d also take fullwidth and Arabic-Indic digits, which
# would let one NIK appear under several spellings.
_NIK = re.compile(r"[0-9]{16}")
_KPJ = re.compile(r"[0-9]{11}")


def check_nik(value: str) -> str:
    """A 16-digit NIK with a real province code and birth date (women: day + 40)."""
    nik = value.strip()
    if not _NIK.fullmatch(nik):
        raise ValueError("nik_format")
    if int(nik[:2]) not in PROVINCE_CODES:
        raise ValueError("nik_province")
    day, month, year = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    if day > 40:
        day -= 40
    if not any(_is_date(century + year, month, day) for century in (1900, 2000)):
        raise ValueError("nik_birth_date")
    if nik[12:] == "0000":
        raise ValueError("nik_sequence")
    return nik


def _is_date(year: int, month: int, day: int) -> bool:
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


def check_kpj(value: str) -> str:
    """An 11-digit KPJ (participant card) number."""
    kpj = value.strip()
    if not _KPJ.fullmatch(kpj):
        raise ValueError("kpj_format")
    return kpj


def check_phone(value: str) -> str:
    """An Indonesian mobile number, returned in E.164 (``+628…``)."""
    try:
        number = phonenumbers.parse(value.strip(), "ID")
    except phonenumbers.NumberParseException:
        raise ValueError("phone_format") from None
    if number.country_code != 62 or not phonenumbers.is_valid_number(number):
        raise ValueError("phone_not_indonesian")
    kind = phonenumbers.number_type(number)
    if kind not in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        raise ValueError("phone_not_mobile")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def check_name(value: str) -> str:
    """3-100 characters of letters, spaces and ``.'-``; inner spaces are folded."""
    name = " ".join(value.split())
    if not 3 <= len(name) <= 100:
        raise ValueError("name_length")
    if not _NAME.fullmatch(name):
        raise ValueError("name_characters")
    return name
