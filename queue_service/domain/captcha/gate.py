"""The captcha gate in front of booking.

``CaptchaGate`` is the seam: the self-hosted implementation here and a hosted captcha in
production both fit behind it. ``verify`` must consume the challenge, right or wrong; a
hosted gate checks the provider's token there, and has no images or audio of its own to
serve (its ``image`` and ``audio`` raise ``NotFoundError``).

The self-hosted challenge is a 6-digit answer kept in the data store under a random id
until its TTL runs out or a booking attempt names it, whichever comes first. Creating
one costs a single ``SET``. The image is drawn at its first fetch (never on the booking
path, nor for a challenge whose image nobody fetches) and kept with the challenge for the
rest of its life, so every fetch serves the same image and no one can average renderings;
the audio clip is spoken on first fetch and kept for a minute, so replays and range
requests get the same bytes. Both go when the challenge is consumed or expires. The clip's
voices are varied by numbers seeded with an HMAC of the challenge's id under the
deployment's secret (``speech.clip_seed``): a fetch after the minute speaks the same clip
again, so renderings cannot be averaged, and no one without the secret can tell from an id
how its clip will sound.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from redis import Redis
from redis.exceptions import NoScriptError

from queue_service.domain.captcha import media as captcha_media
from queue_service.domain.captcha import speech
from queue_service.domain.errors import CaptchaFailedError, NotFoundError
from queue_service.store import keys
from queue_service.store.scripts import Scripts

ANSWER_DIGITS = 6
# Ids are 128 random bits, URL-safe base64 (what ``secrets.token_urlsafe(16)`` returns).
ID = re.compile(r"[A-Za-z0-9_-]{22}")
_MAX_ANSWER_CHARS = 32
# A spoken clip (~70 KB) is kept this long, enough for a player's range requests and a
# replay; not the challenge's whole life, so fetched clips cannot fill the data store.
AUDIO_KEEP_SECONDS = 60
# A consumed challenge's answer is kept this long under the consuming attempt's token, long
# enough for a client's re-send of the consume; no other attempt can use it.
CONSUMED_KEEP_SECONDS = 60
# A consumed challenge's answer key holds this, then the token and the answer.
CONSUMED_MARK = b"~"


@dataclass(frozen=True)
class Challenge:
    """A fresh challenge: its id and how many seconds it stays valid."""

    id: str
    expires_in: int


class CaptchaGate(Protocol):
    def create(self) -> Challenge:
        """Issue a new challenge."""

    def image(self, captcha_id: str) -> bytes:
        """The challenge as a PNG. Raises ``NotFoundError`` once it is used or expired."""

    def audio(self, captcha_id: str) -> bytes:
        """The challenge as a WAV. Raises ``NotFoundError`` once it is used or expired."""

    def verify(self, captcha_id: object, answer: object) -> None:
        """Consume the challenge; raise ``CaptchaFailedError`` unless ``answer`` solves it."""

    def pending(self, captcha_id: object, answer: object) -> PendingVerdict:
        """``verify``, to be sent on another step's round trip (``PendingVerdict``)."""


def new_answer() -> str:
    """A random answer of ``ANSWER_DIGITS`` digits (leading zeros allowed)."""
    return f"{secrets.randbelow(10**ANSWER_DIGITS):0{ANSWER_DIGITS}d}"


def normalise_answer(typed: object) -> str | None:
    """What a person typed, compared case-insensitively and ignoring spaces; None if unusable."""
    if not isinstance(typed, str) or len(typed) > _MAX_ANSWER_CHARS:
        return None
    return "".join(typed.split()).casefold() or None


class SelfHostedCaptcha:
    """Image and audio challenges kept in Redis.

    Args:
        redis: the data store, with ``decode_responses=False`` (the image and audio are bytes).
        ttl_seconds: how long a challenge stays valid.
        test_answer: if set, every challenge also accepts this answer (automated tests;
            the settings refuse it in production).
        answer_factory: makes answers (tests can fix it).
        secret: the deployment's secret (its ``SECRET_KEY``), which keys the audio's
            variation; without one, a random secret of this process (so another process
            speaks a challenge's clip differently, if it speaks it again after the minute).
    """

    def __init__(
        self,
        redis: Redis,
        ttl_seconds: int,
        test_answer: str | None = None,
        answer_factory: Callable[[], str] = new_answer,
        secret: bytes | None = None,
    ):
        self.redis = redis
        self.scripts = Scripts(redis)
        self.ttl_seconds = ttl_seconds
        self._test_answer = normalise_answer(test_answer) if test_answer else None
        self._new_answer = answer_factory
        self._secret = secret if secret else secrets.token_bytes(32)

    def create(self) -> Challenge:
        """Issue a challenge: one ``SET`` with a TTL, nothing drawn yet."""
        captcha_id = secrets.token_urlsafe(16)
        self.redis.set(keys.captcha_answer(captcha_id), self._new_answer(), ex=self.ttl_seconds)
        return Challenge(id=captcha_id, expires_in=self.ttl_seconds)

    def image(self, captcha_id: str) -> bytes:
        """The challenge drawn as a PNG: drawn at the first fetch, then the same bytes at
        every fetch until the challenge is consumed or expires.

        Raises:
            NotFoundError: no live challenge has this id.
        """
        return self._kept(captcha_id, keys.captcha_image, captcha_media.render_png, self.ttl_seconds)

    def audio(self, captcha_id: str) -> bytes:
        """The challenge spoken as a WAV, spoken once and then served from the store for a while.

        Raises:
            NotFoundError: no live challenge has this id.
        """
        seed = speech.clip_seed(self._secret, captcha_id)
        return self._kept(
            captcha_id,
            keys.captcha_audio,
            lambda answer: captcha_media.render_wav(answer, seed),
            AUDIO_KEEP_SECONDS,
        )

    def _kept(
        self, captcha_id: str, key: Callable[[str], str], render: Callable[[str], bytes], keep_seconds: int
    ) -> bytes:
        """The media kept under ``key`` for the challenge, made by ``render`` and kept (at most
        ``keep_seconds``, never past the challenge) if none is yet.

        Concurrent first fetches may each render, but only the first one kept is served.
        """
        if not ID.fullmatch(captcha_id):
            raise NotFoundError("captcha")
        media_key, answer_key = key(captcha_id), keys.captcha_answer(captcha_id)
        # One round trip (one slot: the keys share the challenge's tag). Kept media exist only
        # while the challenge is live: consuming it drops them, and they expire no later.
        kept, answer = self.redis.mget(media_key, answer_key)
        if kept is not None:
            return kept
        if answer is None or answer.startswith(CONSUMED_MARK):
            raise NotFoundError("captcha")
        kept = self.scripts.keep_captcha_media(
            keys=[answer_key, media_key], args=[render(answer.decode()), keep_seconds * 1000]
        )
        if kept is None:  # used or expired while we were drawing or speaking
            raise NotFoundError("captcha")
        return kept

    def verify(self, captcha_id: object, answer: object) -> None:
        """Consume the challenge named ``captcha_id`` and check ``answer`` against it.

        The challenge is gone afterwards whatever the outcome, so each one allows a
        single guess.

        Raises:
            CaptchaFailedError: the id names no live challenge, or the answer is wrong
                or missing.
        """
        self.pending(captcha_id, answer).settle_now()

    def pending(self, captcha_id: object, answer: object) -> PendingVerdict:
        """``verify``'s consumption of the challenge, still to be sent (see ``PendingVerdict``).

        Raises:
            CaptchaFailedError: ``captcha_id`` cannot name a challenge (nothing to send).
        """
        if not isinstance(captcha_id, str) or not ID.fullmatch(captcha_id):
            raise CaptchaFailedError("unknown")
        return PendingVerdict(self, captcha_id, answer)

    def judge(self, stored: bytes | str | None, answer: object) -> None:
        """Whether ``answer`` solves the challenge whose answer was ``stored`` (None: it had
        none: unknown, expired or used).

        Raises:
            CaptchaFailedError: it does not.
        """
        if stored is None:
            raise CaptchaFailedError("expired")
        given = normalise_answer(answer)
        expected = normalise_answer(stored.decode() if isinstance(stored, bytes) else stored)
        if given is None or not (_same(given, expected) or _same(given, self._test_answer)):
            raise CaptchaFailedError("wrong")


class PendingVerdict:
    """One challenge's consumption, still to be sent: it may ride on another step's round
    trip (a booking's first read, in a pipeline of a client of the same server), as a bare
    EVALSHA, and is judged from its reply before anything else that round trip read."""

    def __init__(self, gate: SelfHostedCaptcha, captcha_id: str, answer: object):
        self._gate, self._answer = gate, answer
        self._keys = [
            keys.captcha_answer(captcha_id),
            keys.captcha_audio(captcha_id),
            keys.captcha_image(captcha_id),
        ]
        # The attempt's token: a re-sent call answers as the first did (consume_captcha.lua).
        self._args = [secrets.token_hex(8), CONSUMED_KEEP_SECONDS * 1000]

    def queue(self, pipe) -> None:
        """Add the consumption to ``pipe``."""
        pipe.evalsha(self._gate.scripts.consume_captcha.sha, len(self._keys), *self._keys, *self._args)

    def settle(self, replies: list) -> None:
        """Judge the consumption's reply (the first of ``replies``; an error as an exception).

        Raises:
            CaptchaFailedError: the challenge is unknown, used or expired, or not solved.
        """
        stored = replies[0]
        if isinstance(stored, NoScriptError):  # a server that restarted: load it, consume
            stored = self._run()
        elif isinstance(stored, Exception):
            raise stored
        self._gate.judge(stored, self._answer)

    def settle_now(self) -> None:
        """Consume in a round trip of its own, and judge; raises as ``settle``."""
        self._gate.judge(self._run(), self._answer)

    def _run(self) -> bytes | None:
        return self._gate.scripts.consume_captcha(keys=self._keys, args=self._args)


def _same(given: str, expected: str | None) -> bool:
    return expected is not None and hmac.compare_digest(given.encode(), expected.encode())
