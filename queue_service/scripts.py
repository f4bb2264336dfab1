"""The Lua scripts of ``lua/``, registered once per client and called with EVALSHA."""

from __future__ import annotations

from importlib import resources

from redis import Redis

_NAMES = ("claim_nik", "confirm_nik", "release_nik", "reserve", "cancel", "consume_captcha",
          "cache_captcha_audio", "sms_begin", "sms_settle", "sms_status")


class Scripts:
    """One attribute per script in ``queue_service/lua``, bound to ``redis``."""

    def __init__(self, redis: Redis):
        folder = resources.files("queue_service") / "lua"
        for name in _NAMES:
            setattr(self, name, redis.register_script((folder / f"{name}.lua").read_text()))
