"""Every key name and value in a Redis, as text, for tests that look for data in clear."""

from __future__ import annotations

from collections.abc import Iterator

from redis import Redis


def every_text(redis: Redis) -> Iterator[tuple[str, str]]:
    """``(key, text)`` for each key's name and each string its value holds (members, fields,
    scores aside), whatever its type."""
    for key in redis.scan_iter(count=1000):
        yield key, key
        kind = redis.type(key)
        if kind == "string":
            parts = [redis.get(key)]
        elif kind == "hash":
            parts = [text for pair in redis.hgetall(key).items() for text in pair]
        elif kind == "list":
            parts = redis.lrange(key, 0, -1)
        elif kind == "set":
            parts = list(redis.smembers(key))
        elif kind == "zset":
            parts = redis.zrange(key, 0, -1)
        elif kind == "stream":
            parts = [text for _id, fields in redis.xrange(key) for pair in fields.items() for text in pair]
        else:
            raise AssertionError(f"{key}: a {kind} the scan cannot read")
        for part in parts:
            yield key, str(part)


def found_in_clear(redis: Redis, *secrets: str) -> list[tuple[str, str]]:
    """The ``(key, secret)`` pairs where a key's name or value holds one of ``secrets``."""
    return sorted(
        {(key, secret) for key, text in every_text(redis) for secret in secrets if secret and secret in text}
    )
