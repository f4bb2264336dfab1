"""Signed-in staff sessions (console and counter pages), held in the data store.

The browser's signed cookie names a session by a random id; the session itself lives here,
under a hash of that id, so that signing out ends it everywhere at once: a copy of the cookie
taken before is worth nothing after. Each session lives as long as the idle time allows, and
every request that counts as activity gives it that long again.
"""

from __future__ import annotations

import hashlib
import secrets

from redis import Redis

from queue_service.store import keys


class StaffSessions:
    def __init__(self, redis: Redis, idle_seconds: int):
        self.redis = redis
        self.idle_seconds = idle_seconds

    def start(self, username: str) -> str:
        """A new session of ``username``; returns its id, for the cookie only."""
        session_id = secrets.token_urlsafe(32)
        self.redis.set(_key(session_id), username, ex=self.idle_seconds)
        return session_id

    def holder(self, session_id: str | None, touch: bool) -> str | None:
        """The username of a live session, or None; with ``touch``, it lives on idle again."""
        if not session_id:
            return None
        if touch:
            with self.redis.pipeline(transaction=False) as pipe:
                pipe.get(_key(session_id))
                pipe.expire(_key(session_id), self.idle_seconds)
                username, _extended = pipe.execute()
            return username
        return self.redis.get(_key(session_id))

    def end(self, session_id: str | None) -> None:
        if session_id:
            self.redis.delete(_key(session_id))


def _key(session_id: str) -> str:
    # Hashed, as API tokens are: a copy of the data store holds no session a browser could use.
    return keys.staff_session(hashlib.sha256(session_id.encode()).hexdigest())
