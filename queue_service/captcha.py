"""The captcha gate in front of booking.

``CaptchaGate`` is the seam: the self-hosted implementation and a hosted captcha in
production both fit behind it. ``verify`` must consume the challenge, right or wrong.
"""

from __future__ import annotations

from typing import Protocol

from queue_service.errors import CaptchaFailedError


class CaptchaGate(Protocol):
    def verify(self, captcha_id: object, answer: object) -> None:
        """Consume the challenge; raise ``CaptchaFailedError`` unless ``answer`` solves it."""


class PresenceOnlyGate:
    """Stand-in until the self-hosted captcha lands: requires both fields, checks nothing else."""

    def verify(self, captcha_id: object, answer: object) -> None:
        if not isinstance(captcha_id, str) or not isinstance(answer, str) or not answer:
            raise CaptchaFailedError()
