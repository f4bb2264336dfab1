"""The participant registry: whether a NIK, a KPJ and a name belong together, asked before a
booking holds a place.

``ParticipantRegistry`` is the seam, as ``CaptchaGate`` is for the captcha: an agency puts
an adapter in front of its own membership service and points ``PARTICIPANT_REGISTRY_URL``
at it (``HttpParticipantRegistry``: one JSON ``POST`` of ``{"nik", "kpj", "name"}``,
answered ``200 {"valid": true|false}``); unset, ``NoRegistry`` accepts everyone without
asking anything.

``RegistryCheck`` is what a booking does with the verdict: a pair the registry rejects is a
field error naming ``kpj``; a registry that gives no verdict (unreachable, too slow, any
status but 200, a body without a boolean ``valid``) either lets the booking through,
flagged ``registry: unchecked`` in its record (``failure="open"``), or refuses it with
``RegistryUnavailableError``, a 503 (``failure="closed"``).

Nothing personal is logged here: only what kind of failure it was.
"""

from __future__ import annotations

import enum
import logging
from typing import Protocol

import requests

from queue_service.domain.errors import StoreUnavailableError, ValidationFailedError

log = logging.getLogger(__name__)

# The record field a booking made without the registry's verdict carries, and its value.
FLAG_FIELD = "registry"
UNCHECKED = "unchecked"
# What the booking's refusal says of ``kpj`` (a key of the web layer's message catalog).
NOT_REGISTERED = "kpj_not_registered"
FAILURE_MODES = ("open", "closed")


class RegistryVerdict(enum.Enum):
    VALID = "valid"
    INVALID = "invalid"
    # No verdict: unreachable, timed out, a status other than 200, or an answer without a
    # boolean ``valid``.
    UNAVAILABLE = "unavailable"


class RegistryUnavailableError(StoreUnavailableError):
    """The registry gave no verdict and ``PARTICIPANT_REGISTRY_FAILURE=closed``: nothing is
    booked; the client may try again shortly."""

    retry_after = 5


class ParticipantRegistry(Protocol):
    def check(self, nik: str, kpj: str, name: str) -> RegistryVerdict:
        """Whether the registry knows ``kpj`` as the membership of ``nik`` named ``name``.

        Never raises for a registry that fails: that is ``RegistryVerdict.UNAVAILABLE``.
        """


class NoRegistry:
    """No registry configured: every participant is accepted, nothing is asked."""

    def check(self, nik: str, kpj: str, name: str) -> RegistryVerdict:
        return RegistryVerdict.VALID


class HttpParticipantRegistry:
    """A registry reached by one JSON ``POST`` to ``url``.

    Args:
        url: where to post ``{"nik", "kpj", "name"}``.
        timeout_seconds: how long to wait to connect, and then for each read of the answer
            (requests' timeout: a registry that hangs gives no verdict after this long).
        session: the HTTP session (its connections are kept and reused across bookings).
    """

    def __init__(self, url: str, timeout_seconds: float, session: requests.Session | None = None):
        self.url = url
        self.timeout_seconds = timeout_seconds
        self.session = session or requests.Session()

    def check(self, nik: str, kpj: str, name: str) -> RegistryVerdict:
        try:
            response = self.session.post(
                self.url,
                json={"nik": nik, "kpj": kpj, "name": name},
                timeout=self.timeout_seconds,
                # A redirect is no verdict: the personal data goes to the URL configured, no other.
                allow_redirects=False,
            )
        except requests.RequestException as error:
            log.warning("participant registry gave no verdict: %s", type(error).__name__)
            return RegistryVerdict.UNAVAILABLE
        if response.status_code != 200:
            log.warning("participant registry gave no verdict: status %d", response.status_code)
            return RegistryVerdict.UNAVAILABLE
        try:
            answer = response.json()
        except ValueError:
            log.warning("participant registry gave no verdict: its answer is not JSON")
            return RegistryVerdict.UNAVAILABLE
        valid = answer.get("valid") if isinstance(answer, dict) else None
        if not isinstance(valid, bool):
            log.warning("participant registry gave no verdict: no boolean 'valid' in its answer")
            return RegistryVerdict.UNAVAILABLE
        return RegistryVerdict.VALID if valid else RegistryVerdict.INVALID


class RegistryCheck:
    """The registry as a booking asks it, and what a booking does without its verdict.

    Args:
        registry: the registry (``NoRegistry`` when none is configured).
        failure: ``"open"`` books without a verdict and flags the booking; ``"closed"``
            refuses the booking.
    """

    def __init__(self, registry: ParticipantRegistry, failure: str = "open"):
        if failure not in FAILURE_MODES:
            raise ValueError(f"failure must be open or closed, not {failure!r}")
        self.registry = registry
        self.failure = failure

    @property
    def asks(self) -> bool:
        """Whether there is a registry to ask (with none, the booking skips the check)."""
        return not isinstance(self.registry, NoRegistry)

    def screen(self, nik: str, kpj: str, name: str) -> dict[str, str]:
        """Ask the registry about this participant.

        Returns:
            The fields to add to the booking's record: none when the registry accepts them,
            ``{"registry": "unchecked"}`` when it gave no verdict and failure is open.

        Raises:
            ValidationFailedError: the registry rejects them (``{"kpj": [NOT_REGISTERED]}``).
            RegistryUnavailableError: no verdict, and failure is closed.
        """
        verdict = self.registry.check(nik, kpj, name)
        if verdict is RegistryVerdict.VALID:
            return {}
        if verdict is RegistryVerdict.INVALID:
            raise ValidationFailedError({"kpj": [NOT_REGISTERED]})
        if self.failure == "closed":
            raise RegistryUnavailableError("participant_registry")
        return {FLAG_FIELD: UNCHECKED}


def from_settings(settings, session: requests.Session | None = None) -> RegistryCheck:
    """The check the settings describe: no registry without ``PARTICIPANT_REGISTRY_URL``."""
    url = settings["PARTICIPANT_REGISTRY_URL"]
    registry: ParticipantRegistry = (
        HttpParticipantRegistry(url, settings["PARTICIPANT_REGISTRY_TIMEOUT_MS"] / 1000, session)
        if url
        else NoRegistry()
    )
    return RegistryCheck(registry, settings["PARTICIPANT_REGISTRY_FAILURE"])
