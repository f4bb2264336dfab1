"""Kiosks: a tablet or PC at a branch's door, bound to that branch, with a token of its own.

A kiosk token is 256 random bits shown once; only its SHA-256 is kept. A revoked kiosk is
refused from its next request on.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import asdict, dataclass

from redis import Redis

from queue_service.domain import audit
from queue_service.domain.accounts import token_digest
from queue_service.domain.audit import Actor
from queue_service.domain.errors import NotFoundError, UnauthorizedError, ValidationFailedError
from queue_service.store import keys


@dataclass(frozen=True)
class Kiosk:
    id: str
    branch_id: str
    name: str
    created_at: str
    revoked_at: str | None = None


class Kiosks:
    """Kiosks over the data store (``decode_responses=True``)."""

    def __init__(self, redis: Redis):
        self.redis = redis

    def create(
        self, branch_id: str, name: str, now: dt.datetime, actor: Actor | None = None
    ) -> tuple[Kiosk, str]:
        """Register a kiosk of ``branch_id``; returns it with its token (shown once). Audited
        in the branch's log when ``actor`` registers it.

        Raises:
            ValidationFailedError: an unknown branch, or a name empty or over 64 characters.
        """
        name = " ".join(name.split())
        problems = {}
        if not 1 <= len(name) <= 64:
            problems["name"] = ["too_long" if name else "required"]
        if not self.redis.hexists(keys.BRANCHES, branch_id):
            problems["branch_id"] = ["unknown_branch"]
        if problems:
            raise ValidationFailedError(problems)
        kiosk = Kiosk(secrets.token_hex(6), branch_id, name, now.isoformat(timespec="seconds"))
        token = secrets.token_urlsafe(32)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(keys.KIOSKS, kiosk.id, json.dumps(asdict(kiosk)))
        pipe.hset(keys.KIOSK_TOKENS, token_digest(token), kiosk.id)
        pipe.execute()
        self._audit(actor, "kiosk_created", kiosk, None, {"name": kiosk.name}, now)
        return kiosk, token

    def get(self, kiosk_id: str) -> Kiosk | None:
        raw = self.redis.hget(keys.KIOSKS, kiosk_id)
        return Kiosk(**json.loads(raw)) if raw else None

    def of_branch(self, branch_id: str) -> list[Kiosk]:
        """The branch's kiosks, revoked ones included, by name."""
        every = (Kiosk(**json.loads(raw)) for raw in self.redis.hvals(keys.KIOSKS))
        return sorted((k for k in every if k.branch_id == branch_id), key=lambda k: (k.name, k.id))

    def revoke(self, kiosk_id: str, now: dt.datetime, actor: Actor | None = None) -> Kiosk:
        """Revoke a kiosk: its token is refused from now on (audited when ``actor`` asks).

        Raises:
            NotFoundError: no such kiosk.
        """
        kiosk = self.get(kiosk_id)
        if kiosk is None:
            raise NotFoundError("kiosk")
        if kiosk.revoked_at is None:
            kiosk = Kiosk(**{**asdict(kiosk), "revoked_at": now.isoformat(timespec="seconds")})
            self.redis.hset(keys.KIOSKS, kiosk.id, json.dumps(asdict(kiosk)))
        self._audit(actor, "kiosk_revoked", kiosk, {"name": kiosk.name}, None, now)
        return kiosk

    def _audit(
        self, actor: Actor | None, action: str, kiosk: Kiosk, before: object, after: object, now: dt.datetime
    ) -> None:
        if actor is not None:
            audit.record(
                self.redis, keys.branch_audit(kiosk.branch_id), actor, action, kiosk.id, before, after, now
            )

    def authenticate(self, token: str | None) -> Kiosk:
        """The live kiosk a token belongs to.

        Raises:
            UnauthorizedError: no token, or one that is unknown or revoked.
        """
        kiosk_id = self.redis.hget(keys.KIOSK_TOKENS, token_digest(token)) if token else None
        kiosk = self.get(kiosk_id) if kiosk_id else None
        return self.require_live(kiosk)

    def require_live(self, kiosk: Kiosk | None) -> Kiosk:
        """``kiosk``, unless it is missing or revoked.

        Raises:
            UnauthorizedError: missing or revoked.
        """
        if kiosk is None or kiosk.revoked_at is not None:
            raise UnauthorizedError("bad_kiosk")
        return kiosk
