"""The pages' signed-cookie sessions, with Flask's signing serializer built once per key."""

from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class CachedSerializerSessions(SecureCookieSessionInterface):
    """Flask's own sessions, but the signing serializer is kept while the keys stay the same.

    Flask builds one (and test-serialises with it) on every request, cookie or not: in a
    profile, a sixth of the Flask side of ``GET /healthz``. The serializer holds no state
    of a call, so the threads of a process can share it.
    """

    def __init__(self):
        self._serializers: dict[tuple, URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """The serializer for the app's current ``SECRET_KEY`` and its fallbacks."""
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        serializer = self._serializers.get(keys)
        if serializer is None:
            serializer = super().get_signing_serializer(app)
            self._serializers = {keys: serializer}  # one entry: a key change drops the old
        return serializer
