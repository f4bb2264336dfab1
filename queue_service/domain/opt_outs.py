"""Phones whose owners asked for no more messages (WhatsApp ``BERHENTI``/``STOP``, undone by
``MULAI``): every sender asks here before it sends, and skips them.

Kept under the phone's own tag (``{p:<digest>}``, a keyed hash: no number in a key name),
beside its bookings' cap, with no expiry: the wish stands until its owner takes it back.
While ``NIK_HASH_KEY`` is being replaced (``NIK_HASH_KEY_PREVIOUS`` set), a wish recorded
under the previous key's digest still holds, and moves to the current one when first read:
after the window, with the previous key gone, none is forgotten.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from redis import Redis

from queue_service.domain.privacy import keyed_digest
from queue_service.store import keys


class OptOuts:
    """The phones that asked for no messages, over the data store.

    Args:
        redis: the data store.
        secret: key of the HMAC that turns a phone number into its key name (``NIK_HASH_KEY``,
            else ``SECRET_KEY``, as the phone's cap's).
        previous_secret: the key ``secret`` replaces (``NIK_HASH_KEY_PREVIOUS``), whose
            digests' wishes still hold; None outside a replacement.
    """

    def __init__(self, redis: Redis, secret: bytes, previous_secret: bytes | None = None):
        self.redis = redis
        self._secret = secret
        self._previous_secret = previous_secret if previous_secret != secret else None

    @classmethod
    def from_settings(cls, redis: Redis, settings: Mapping[str, Any]) -> OptOuts:
        """The opt-outs keyed as the settings say (the phone cap's key)."""
        secret = (settings.get("NIK_HASH_KEY") or settings.get("SECRET_KEY") or "").encode()
        return cls(redis, secret, (settings.get("NIK_HASH_KEY_PREVIOUS") or "").encode() or None)

    def digest(self, phone: str) -> str:
        """The keyed hash that stands for ``phone`` (E.164) in key names."""
        return keyed_digest(self._secret, "phone", phone)

    def _previous_key(self, phone: str) -> str | None:
        if self._previous_secret is None:
            return None
        return keys.phone_stopped(keyed_digest(self._previous_secret, "phone", phone))

    def stop(self, phone: str) -> None:
        """No more messages to ``phone`` (E.164) until ``resume``."""
        self.redis.set(keys.phone_stopped(self.digest(phone)), "1")

    def resume(self, phone: str) -> None:
        """Messages to ``phone`` again (a wish recorded under the previous key too)."""
        # One key a command: the two digests' keys lie in different slots of a cluster.
        for key in (keys.phone_stopped(self.digest(phone)), self._previous_key(phone)):
            if key is not None:
                self.redis.delete(key)

    def stopped(self, phone: str) -> bool:
        """Whether ``phone``'s owner asked for no messages (under the previous key too: such
        a wish moves to the current key's digest here)."""
        if not phone:
            return False
        current = keys.phone_stopped(self.digest(phone))
        previous = self._previous_key(phone)
        if previous is None:
            return self.redis.exists(current) == 1
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.exists(current)
            pipe.exists(previous)
            now, before = pipe.execute()
        if before:
            # Written before it is taken away, so a crash in between forgets nothing.
            self.redis.set(current, "1")
            self.redis.delete(previous)
        return bool(now or before)
