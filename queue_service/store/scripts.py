"""The Lua scripts of ``lua/``, registered once per client and called with EVALSHA."""

from __future__ import annotations

from importlib import resources

from redis import Redis


class Scripts:
    """One attribute per script in ``queue_service/store/lua``, named after its file, bound
    to ``redis``."""

    def __init__(self, redis: Redis):
        folder = resources.files("queue_service.store") / "lua"
        for script in folder.iterdir():
            if script.name.endswith(".lua"):
                setattr(self, script.name.removesuffix(".lua"),
                        redis.register_script(script.read_text()))
