"""Phones whose owners asked for no more messages (WhatsApp ``BERHENTI``/``STOP``, undone by
``MULAI``): every sender asks here before it sends, and skips them.

Kept under the phone's own tag (``{p:<digest>}``, a keyed hash: no number in a key name),
beside its bookings' cap, with no expiry: the wish stands until its owner takes it back.
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
    """

    def __init__(self, redis: Redis, secret: bytes):
        self.redis = redis
        self._secret = secret

    @classmethod
    def from_settings(cls, redis: Redis, settings: Mapping[str, Any]) -> OptOuts:
        """The opt-outs keyed as the settings say (the phone cap's key)."""
        return cls(redis, (settings.get("NIK_HASH_KEY") or settings.get("SECRET_KEY") or "").encode())

    def digest(self, phone: str) -> str:
        """The keyed hash that stands for ``phone`` (E.164) in key names."""
        return keyed_digest(self._secret, "phone", phone)

    def stop(self, phone: str) -> None:
        """No more messages to ``phone`` (E.164) until ``resume``."""
        self.redis.set(keys.phone_stopped(self.digest(phone)), "1")

    def resume(self, phone: str) -> None:
        """Messages to ``phone`` again."""
        self.redis.delete(keys.phone_stopped(self.digest(phone)))

    def stopped(self, phone: str) -> bool:
        """Whether ``phone``'s owner asked for no messages."""
        return bool(phone) and self.redis.exists(keys.phone_stopped(self.digest(phone))) == 1
