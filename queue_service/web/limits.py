"""The rate limits of the public API (SPEC §2 "Rate limits"), as flask-limiter decorators.

``limiter`` is created here unbound, so that views can be decorated with its limits at
import time, and ``extensions.init_app`` binds it to each app. Each limit reads its value
from the app's settings (``RATELIMIT_*``) on every request. Counters live in the data
store. A breach raises flask-limiter's ``RateLimitExceeded``, which ``web.errors`` turns
into the JSON ``rate_limited`` error with ``Retry-After`` and the ``X-RateLimit-*`` headers
(``refusal_headers``). Only refusals carry them: on every answer they cost two more round
trips to the store for each limited request, a fifth of a booking's time.

Per client address (``client_address``):

- ``captcha_creation``: new challenges;
- ``booking``: booking attempts;
- ``lookup``: look-ups and cancels together;
- ``failed_lookup``: look-ups and cancels that answered 404 (only those are counted; once
  spent, every look-up from the address waits, so codes cannot be guessed);
- ``read``: catalog, availability and captcha media, together.

Per person (NIK and phone), booking attempts are counted by the domain's
``PersonAllowance`` (``domain/person_allowance.py``), not by flask-limiter; this module
only says whose address it is (``client_address``).
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import time
from collections.abc import Callable

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter

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


def sentinel_storage_uri(sentinels: list[tuple[str, int]], master: str) -> str:
    """The sentinels as the ``limits`` library spells them:
    ``redis+sentinel://10.0.0.1:26379,[fd00::2]:26379/antrian``."""
    hosts = ",".join(f"[{host}]:{port}" if ":" in host else f"{host}:{port}" for host, port in sentinels)
    return f"redis+sentinel://{hosts}/{master}"


class CommitSafeLimiter(Limiter):
    """flask-limiter whose work after the view can never change the view's answer.

    Checks stay fail-closed (``swallow_errors=False``): a limit that cannot be checked
    refuses the request before the view runs. But after the view, flask-limiter goes to the
    store again, for the ``deduct_when`` counts (and the headers, were they on); if the
    store has just died, that used to turn a committed booking's 201 into a 503. Here such
    a failure is logged and the response goes out as the view made it. flask-limiter
    offers no switch for this, so ``init_app`` wraps its own after-request hook (private in
    4.1; a changed version fails loudly at start).

    And every limit here is a decorator's, which the decorator checks: flask-limiter's own
    before-request check, there for default, application and blueprint limits, only weighed
    an empty list on every request, so ``init_app`` drops it while there are none.

    And each app gets the storage options its own config gives: flask-limiter merges them
    into what the apps before it left (``_storage_options.update``, 4.1), so a process that
    builds several apps (the tests) handed a plain Redis the Sentinel connection class of
    the app before, and every limited request of every later app failed.
    """

    def init_app(self, app: Flask) -> None:
        self._storage_options = {}
        super().init_app(app)
        manager = self.limit_manager
        before = app.before_request_funcs.setdefault(None, [])
        if (
            not (
                manager.default_limits
                or manager.application_limits
                or self._meta_limits
                or manager._blueprint_limits
            )
            and self._check_request_limit in before
        ):
            before.remove(self._check_request_limit)
        hooks = app.after_request_funcs.setdefault(None, [])
        for index, hook in enumerate(hooks):
            if isinstance(hook, functools.partial) and hook.args and hook.args[0] is self:
                hooks[index] = self._keeping_the_response(hook)
                return
        if self.enabled and not any(getattr(hook, "limiter", None) is self for hook in hooks):
            raise RuntimeError(
                "flask-limiter's after-request hook not found: its internals changed; see CommitSafeLimiter"
            )

    def _keeping_the_response(self, inject: Callable[[Response], Response]):
        def after_view(response: Response) -> Response:
            try:
                return inject(response)
            except Exception as error:  # noqa: BLE001 - whatever the store raised
                log.warning(
                    "rate-limit headers left out of a %s response: %s: %s",
                    response.status_code,
                    type(error).__name__,
                    error,
                )
                return response

        after_view.limiter = self
        return after_view


# flask-limiter's headers are off: refusal_headers writes them on refusals only.
limiter = CommitSafeLimiter(
    client_address, headers_enabled=False, key_prefix="antrian", strategy="fixed-window", swallow_errors=False
)


def refusal_headers() -> dict[str, str]:
    """``Retry-After`` (seconds until the refusing limit's window ends) and ``X-RateLimit-*``
    for a request that a limit refused; one read of the store."""
    refusing = limiter.current_limit
    if refusing is None:  # refused by flask-limiter's default limits, which we do not set
        return {"Retry-After": str(_FALLBACK_RETRY_AFTER)}
    try:
        reset_at = refusing.reset_at
    except Exception as error:  # noqa: BLE001 - the refusal stands; only its figures are lost
        log.warning("rate-limit figures left out of a refusal: %s", type(error).__name__)
        return {"Retry-After": str(_FALLBACK_RETRY_AFTER)}
    return {
        "Retry-After": str(max(1, int(reset_at - time.time()))),
        **spent_headers(refusing.limit.amount, int(reset_at)),
    }


def spent_headers(amount: int, reset_at: int) -> dict[str, str]:
    """The ``X-RateLimit-*`` headers of a limit used up until ``reset_at`` (epoch seconds)."""
    return {
        "X-RateLimit-Limit": str(amount),
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(reset_at),
    }


_FALLBACK_RETRY_AFTER = 60


def _setting(name: str) -> Callable[[], str]:
    return lambda: current_app.config[name]


def _bypassed_while_disabled(limit: Callable) -> Callable:
    """The decorator ``limit`` of flask-limiter, which costs nothing while rate limiting is
    off (``RATELIMIT_ENABLED=0``, say behind a gateway that limits): flask-limiter's own
    wrapper weighs an empty list of limits on every request, a sixth of a cached read."""

    def decorate(view: Callable) -> Callable:
        checked = limit(view)

        @functools.wraps(view)
        def limited(*args, **kwargs):
            return checked(*args, **kwargs) if limiter.enabled else view(*args, **kwargs)

        # flask-limiter's mark on its wrapper, by which stacked limits are checked once.
        limited.__dict__.update(checked.__dict__)
        return limited

    return decorate


# Shared, so the pages' captcha and booking forms and the API's endpoints spend one
# allowance per address, not one each.
captcha_creation = _bypassed_while_disabled(
    limiter.shared_limit(_setting("RATELIMIT_CAPTCHA"), scope="captcha")
)
booking = _bypassed_while_disabled(limiter.shared_limit(_setting("RATELIMIT_BOOKING"), scope="booking"))
lookup = _bypassed_while_disabled(limiter.shared_limit(_setting("RATELIMIT_LOOKUP"), scope="lookup"))
failed_lookup = _bypassed_while_disabled(
    limiter.shared_limit(
        _setting("RATELIMIT_FAILED_LOOKUP"),
        scope="failed-lookup",
        deduct_when=lambda response: response.status_code == 404,
    )
)
read = _bypassed_while_disabled(limiter.shared_limit(_setting("RATELIMIT_READ"), scope="read"))
