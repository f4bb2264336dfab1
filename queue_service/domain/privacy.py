"""Personal data (UU PDP): masked wherever a person reads it, hashed wherever a key names it."""

from __future__ import annotations

import hashlib
import hmac


def keyed_digest(secret: bytes, purpose: str, value: str) -> str:
    """A keyed hash that stands for ``value`` in key names and counters, never the value itself.

    ``purpose`` (``nik``, ``phone``) keeps equal strings of different kinds apart.
    """
    return hmac.new(secret, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()[:32]


def mask_nik(nik: str) -> str:
    """``3174********0001``: for logs and lists."""
    return nik[:4] + "*" * (len(nik) - 8) + nik[-4:] if len(nik) > 8 else "*" * len(nik)


def mask_kpj(kpj: str) -> str:
    """``*******8901``: an 11-digit KPJ keeps only its last four digits (eight of eleven, as a
    NIK's mask shows them, would all but name it)."""
    return "*" * (len(kpj) - 4) + kpj[-4:] if len(kpj) > 6 else "*" * len(kpj)


def mask_phone(phone: str) -> str:
    """``+62812****5678``: for logs and lists."""
    return phone[:6] + "*" * (len(phone) - 10) + phone[-4:] if len(phone) > 10 else "*" * len(phone)
