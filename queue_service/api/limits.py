"""The rate limits of the public API (SPEC §2 "Rate limits"), as flask-limiter decorators.

Each limit reads its value from the app's settings (``RATELIMIT_*``) on every request.
Counters live in the data store. A breach raises flask-limiter's ``RateLimitExceeded``,
which ``api.errors`` turns into the JSON ``rate_limited`` error; flask-limiter adds
``Retry-After`` and the ``X-RateLimit-*`` headers.

Per client address (``extensions.client_address``):

- ``captcha_creation``: new challenges;
- ``booking``: booking attempts;
- ``lookup``: look-ups and cancels together;
- ``failed_lookup``: look-ups and cancels that answered 404 (only those are counted; once
  spent, every look-up from the address waits, so codes cannot be guessed);
- ``read``: catalog, availability and captcha media, together.

Per person, ``count_booking_attempt`` counts a booking attempt against its NIK and its
phone, whatever the address. It is called after the captcha, so a caller without a
solved captcha can neither spend someone's allowance nor learn that a NIK was used.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from flask import current_app, g

from queue_service.extensions import limiter


def _setting(name: str) -> Callable[[], str]:
    return lambda: current_app.config[name]


captcha_creation = limiter.limit(_setting("RATELIMIT_CAPTCHA"))
booking = limiter.limit(_setting("RATELIMIT_BOOKING"))
lookup = limiter.shared_limit(_setting("RATELIMIT_LOOKUP"), scope="lookup")
failed_lookup = limiter.shared_limit(
    _setting("RATELIMIT_FAILED_LOOKUP"), scope="failed-lookup",
    deduct_when=lambda response: response.status_code == 404)
read = limiter.shared_limit(_setting("RATELIMIT_READ"), scope="read")


def _person_key(kind: str) -> Callable[[], str]:
    return lambda: g.booking_attempt_keys[kind]


@limiter.shared_limit(_setting("RATELIMIT_PER_PERSON"), scope="nik", key_func=_person_key("nik"))
@limiter.shared_limit(_setting("RATELIMIT_PER_PERSON"), scope="phone",
                      key_func=_person_key("phone"))
def _count_person() -> None:
    """Nothing: flask-limiter counts the limits above each time this is called."""


def count_booking_attempt(nik: str, phone: str) -> None:
    """Count a booking attempt against its NIK and its phone (both as stored).

    Raises:
        RateLimitExceeded: either has used up ``RATELIMIT_PER_PERSON``.
    """
    # Counter names carry a keyed hash, never the personal data itself.
    g.booking_attempt_keys = {"nik": _digest("nik", nik), "phone": _digest("phone", phone)}
    _count_person()


def _digest(kind: str, value: str) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:32]
