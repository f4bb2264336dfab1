"""Personal data sealed at rest (UU PDP): AES-GCM under the keys of ``DATA_KEYS``.

A sealed value reads ``v1:<key id>:<base64(nonce | ciphertext | tag)>`` (URL-safe base64, no
padding). Its associated data names the record and field it belongs to (``seal(value, key,
field)``), so a sealed value copied into another record or field does not open there. The
first key of the keyring seals; every key opens what it sealed, so a new key goes first,
``queue-service rotate-data-key`` seals the live records again under it, and only then is the
old one dropped.

A process holds one keyring (``install``), as it holds one data store: the records it reads
are opened with it wherever they are read (``Booking.from_hash``). A value sealed under a key
the keyring lacks, or altered, raises ``SealError``: never garbage, never the sealed text.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "v1"
NONCE_BYTES = 12
KEY_BYTES = (16, 24, 32)
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")


class SealError(Exception):
    """A sealed value cannot be opened: its key is not in ``DATA_KEYS``, or it was altered or
    moved to another record or field."""


class DataKeysError(ValueError):
    """``DATA_KEYS`` is malformed (the message names the entry at fault)."""


@dataclass(frozen=True)
class Keyring:
    """The data keys by id, in ``DATA_KEYS``'s order: the first seals, each opens."""

    keys: tuple[tuple[str, bytes], ...]

    @classmethod
    def parse(cls, text: str) -> Keyring:
        """The keyring ``DATA_KEYS`` describes: ``id:base64key,…`` (16, 24 or 32 bytes each).

        Raises:
            DataKeysError: an empty list, an entry without an id, an id used twice or not of
                1-16 letters, digits, ``_`` and ``-``, or a key that is not such base64.
        """
        entries = [entry.strip() for entry in text.split(",") if entry.strip()]
        if not entries:
            raise DataKeysError("DATA_KEYS names no key (id:base64key,...)")
        keys: list[tuple[str, bytes]] = []
        for position, entry in enumerate(entries, start=1):
            key_id, colon, encoded = entry.partition(":")
            if not colon or not _KEY_ID.match(key_id):
                raise DataKeysError(
                    f"DATA_KEYS entry {position}: expected id:base64key with an id of 1-16 "
                    "letters, digits, _ or -"
                )
            if key_id in dict(keys):
                raise DataKeysError(f"DATA_KEYS entry {position}: the id {key_id!r} is used twice")
            try:
                key = base64.b64decode(encoded, validate=True)
            except binascii.Error:
                key = b""
            if len(key) not in KEY_BYTES:
                raise DataKeysError(
                    f"DATA_KEYS entry {position} ({key_id}): the key must be base64 of 16, 24 or "
                    "32 bytes (queue-service rotate-data-key --new-key ID prints one)"
                )
            keys.append((key_id, key))
        return cls(tuple(keys))

    @property
    def sealing_id(self) -> str:
        """The id of the key that seals (the first)."""
        return self.keys[0][0]

    def seal(self, value: str, record: str, field: str) -> str:
        """``value`` sealed under the first key, bound to ``record``'s ``field``."""
        key_id, key = self.keys[0]
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(key).encrypt(nonce, value.encode(), _bound_to(record, field))
        return f"{PREFIX}:{key_id}:{base64.urlsafe_b64encode(nonce + sealed).rstrip(b'=').decode()}"

    def open(self, sealed: str, record: str, field: str) -> str:
        """The value ``sealed`` holds, as ``seal`` was given it for ``record``'s ``field``.

        Raises:
            SealError: not a sealed value, sealed under a key not in this keyring, or altered
                or moved from another record or field.
        """
        prefix, _, rest = sealed.partition(":")
        key_id, _, body = rest.partition(":")
        if prefix != PREFIX or not body:
            raise SealError(f"{record} {field}: not a sealed value")
        key = dict(self.keys).get(key_id)
        if key is None:
            raise SealError(
                f"{record} {field}: sealed under data key {key_id!r}, which DATA_KEYS no longer "
                "holds (put it back after the first key, run rotate-data-key, then drop it)"
            )
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            opened = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _bound_to(record, field))
        except (binascii.Error, ValueError, InvalidTag) as error:
            raise SealError(f"{record} {field}: altered, or not sealed for this record") from error
        return opened.decode()

    def sealed_with_first(self, sealed: str) -> bool:
        """Whether ``sealed`` is under the sealing key already (rotation leaves it)."""
        return sealed.startswith(f"{PREFIX}:{self.sealing_id}:")


def _bound_to(record: str, field: str) -> bytes:
    return f"{record}\n{field}".encode()


def new_key_entry(key_id: str) -> str:
    """A ``DATA_KEYS`` entry with a fresh 32-byte key: ``<key_id>:<base64>``."""
    if not _KEY_ID.match(key_id):
        raise DataKeysError("a key id is 1-16 letters, digits, _ or -")
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(32)).decode()}"


_installed: Keyring | None = None


def install(keyring: Keyring) -> Keyring:
    """Make ``keyring`` the one this process seals and opens records with."""
    global _installed
    _installed = keyring
    return keyring


def keyring() -> Keyring:
    """The keyring installed in this process.

    Raises:
        SealError: none is (nothing opened a data store from settings yet).
    """
    if _installed is None:
        raise SealError("no DATA_KEYS keyring installed in this process")
    return _installed
