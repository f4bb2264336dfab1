"""Booking codes: random, unguessable, easy to type (SPEC §2)."""

from __future__ import annotations

import secrets

# Crockford's base-32 alphabet: no I, L, O, U.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 10  # 50 bits of randomness
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})


def new_code() -> str:
    """A fresh 10-character booking code."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise_code(typed: str) -> str | None:
    """The code as stored, from what a person typed or a scanner sent; None if it cannot be one.

    Case, spaces and dashes are ignored, and the letters Crockford reads as digits
    (I, L as 1; O as 0) are folded.
    """
    cleaned = "".join(typed.split()).replace("-", "").upper().translate(_READ_AS)
    if len(cleaned) != LENGTH or any(ch not in ALPHABET for ch in cleaned):
        return None
    return cleaned
