"""One process, several apps (the tests build many): each app's rate-limit store is built
from its own settings, never from what an app before it was given."""

from __future__ import annotations

from queue_service.web.limits import limiter


def test_an_app_s_storage_options_do_not_leak_into_the_next_app(make_app):
    make_app(RATELIMIT_STORAGE_OPTIONS={"health_check_interval": 7})
    make_app()
    assert "health_check_interval" not in limiter._storage_options
    assert limiter._storage_options["socket_timeout"] == make_app().config["REDIS_SOCKET_TIMEOUT"]
