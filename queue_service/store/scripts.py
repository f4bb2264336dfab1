"""The Lua scripts of ``lua/``, registered once per client and called with EVALSHA.

Redis runs each script on its own and offers no way to share code between them. A script
whose first line is ``--! uses a b ...`` is therefore given the scripts ``a.lua``, ``b.lua``
... as local functions of its own, each taking ``(KEYS, ARGV)``, so that it can run them
in one step; a part that uses others brings them too, each defined once and before its user.
"""

from __future__ import annotations

import functools
import weakref
from importlib import resources

from redis import Redis


class Scripts:
    """One attribute per script in ``queue_service/store/lua``, named after its file, bound
    to ``redis``."""

    def __init__(self, redis: Redis):
        for name, source in _sources().items():
            setattr(self, name, redis.register_script(source))


def source(name: str) -> str:
    """The source of script ``name`` as it is sent to Redis (its parts prepended)."""
    return _sources()[name]


@functools.cache
def _sources() -> dict[str, str]:
    """Each script's source by name, with the parts it uses prepended."""
    folder = resources.files("queue_service.store") / "lua"
    own = {
        script.name.removesuffix(".lua"): script.read_text()
        for script in folder.iterdir()
        if script.name.endswith(".lua")
    }
    return {name: _with_parts(source, own) for name, source in own.items()}


def _with_parts(source: str, scripts: dict[str, str]) -> str:
    """``source`` after the scripts it uses, each after the ones it uses itself, each once."""
    needed: list[str] = []

    def need(text: str) -> None:
        for part in _uses(text):
            if part not in needed:
                need(scripts[part])
                needed.append(part)

    need(source)
    return "".join(f"local function {part}(KEYS, ARGV)\n{scripts[part]}\nend\n" for part in needed) + source


def _uses(source: str) -> list[str]:
    first_line = source.partition("\n")[0]
    return first_line.removeprefix(_USES).split() if first_line.startswith(_USES) else []


_USES = "--! uses "


_BOUND: weakref.WeakKeyDictionary[Redis, Scripts] = weakref.WeakKeyDictionary()


def for_client(redis: Redis) -> Scripts:
    """The scripts bound to ``redis``, made once per client: registering them hashes every
    file, which a plain function called on each request should not repeat."""
    bound = _BOUND.get(redis)
    if bound is None:
        bound = _BOUND[redis] = Scripts(redis)
    return bound
