"""The rate limits of the public API (SPEC §2 "Rate limits"), as flask-limiter decorators.

``limiter`` is created here unbound, so that views can be decorated with its limits at
import time, and ``extensions.init_app`` binds it to each app. Each limit reads its value
from the app's settings (``RATELIMIT_*``) on every request. Counters live in the data
store. A breach raises flask-limiter's ``RateLimitExceeded``, which ``web.errors`` turns
into the JSON ``rate_limited`` error; flask-limiter adds ``Retry-After`` and the
``X-RateLimit-*`` headers.

Per client address (``client_address``):

- ``captcha_creation``: new challenges;
- ``booking``: booking attempts;
- ``lookup``: look-ups and cancels together;
- ``failed_lookup``: look-ups and cancels that answered 404 (only those are counted; once
  spent, every look-up from the address waits, so codes cannot be guessed);
- ``read``: catalog, availability and captcha media, together.

Per person, ``count_booking_attempt`` counts a booking attempt against its NIK and its
phone *from this address*. It is called after the captcha, so a caller without a solved
captcha spends nothing. Counting per person alone, whatever the address, let a
stranger who knows a NIK spend its allowance with refused attempts and lock its owner
out for an hour; per person and address, the stranger locks out only themselves, and
hoarding or probing NIKs from one address stays bounded by this limit and the address's
own booking limit, each attempt also costing a solved captcha.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
from collections.abc import Callable

from flask import Flask, Response, current_app, g, request
from flask_limiter import Limiter

from queue_service.domain.privacy import keyed_digest

log = logging.getLogger(__name__)


def client_address() -> str:
    """Whom the per-address rate limits count: the client's IPv4 address, or its IPv6 /64.

    ``request.remote_addr`` is the TCP peer or, behind ``TRUSTED_PROXY_COUNT`` proxies,
    the address the outermost trusted proxy saw (werkzeug's ``ProxyFix``, applied in
    ``create_app``). An IPv6 host usually holds a whole /64 and could rotate through it.
    """
    remote = request.remote_addr or ""
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return remote or "unknown"
    if address.version == 6:
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def rate_limit_storage_uri(data_url: str, cluster: bool = False) -> str:
    """The data store's URL as the ``limits`` library spells it.

    ``unix:///var/redis.sock`` (the embedded server) becomes ``redis+unix:///var/redis.sock``;
    a cluster node ``redis://host:port`` becomes ``redis+cluster://host:port``.
    """
    scheme, _, rest = data_url.partition("://")
    if cluster:
        return f"redis+cluster://{rest}"
    if scheme == "unix":
        return f"redis+unix://{rest}"
    return data_url


class CommitSafeLimiter(Limiter):
    """flask-limiter whose work after the view can never change the view's answer.

    Checks stay fail-closed (``swallow_errors=False``): a limit that cannot be checked
    refuses the request before the view runs. But after the view, flask-limiter reads the
    store again, for the ``X-RateLimit-*`` headers and the ``deduct_when`` counts; if the
    store has just died, that used to turn a committed booking's 201 into a 503. Here such
    a failure is logged and the response goes out as the view made it, without those
    headers. flask-limiter offers no switch for this, so ``init_app`` wraps its own
    after-request hook (private in 4.1; a changed version fails loudly at start).
    """

    def init_app(self, app: Flask) -> None:
        super().init_app(app)
        hooks = app.after_request_funcs.setdefault(None, [])
        for index, hook in enumerate(hooks):
            if isinstance(hook, functools.partial) and hook.args and hook.args[0] is self:
                hooks[index] = self._keeping_the_response(hook)
                return
        if self.enabled and not any(getattr(hook, "limiter", None) is self for hook in hooks):
            raise RuntimeError("flask-limiter's after-request hook not found: its internals "
                               "changed; see CommitSafeLimiter")

    def _keeping_the_response(self, inject: Callable[[Response], Response]):
        def after_view(response: Response) -> Response:
            try:
                return inject(response)
            except Exception as error:  # noqa: BLE001 - whatever the store raised
                log.warning("rate-limit headers left out of a %s response: %s: %s",
                            response.status_code, type(error).__name__, error)
                return response

        after_view.limiter = self
        return after_view


# Headers are on: X-RateLimit-* and Retry-After.
limiter = CommitSafeLimiter(client_address, headers_enabled=True, key_prefix="antrian",
                            strategy="fixed-window", swallow_errors=False)


def _setting(name: str) -> Callable[[], str]:
    return lambda: current_app.config[name]


# Shared, so the pages' captcha and booking forms and the API's endpoints spend one
# allowance per address, not one each.
captcha_creation = limiter.shared_limit(_setting("RATELIMIT_CAPTCHA"), scope="captcha")
booking = limiter.shared_limit(_setting("RATELIMIT_BOOKING"), scope="booking")
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
    """Count a booking attempt against its NIK and its phone (both as stored), from this address.

    Raises:
        RateLimitExceeded: either has used up ``RATELIMIT_PER_PERSON`` from this address.
    """
    if not current_app.config["RATELIMIT_ENABLED"]:
        return  # nothing would be counted: spare the two keyed hashes
    # Counter names carry a keyed hash, never the personal data itself.
    secret = current_app.config["SECRET_KEY"].encode()
    address = client_address()
    g.booking_attempt_keys = {kind: keyed_digest(secret, f"{kind}@{address}", value)
                              for kind, value in (("nik", nik), ("phone", phone))}
    _count_person()
