"""Every Redis key the service uses, built in one place.

All keys of one branch share the hash tag ``{b:<branch_id>}`` so that each atomic
reservation touches a single Redis Cluster slot. The one cross-branch rule (one
active booking per NIK per date) lives under the NIK's own tag ``{n:<digest>}``;
the digest is a keyed hash, so no NIK appears in a key name.
"""

from __future__ import annotations

PREFIX = "antrian"

# The catalog is small, global and read-mostly.
AREAS = f"{PREFIX}:catalog:areas"
SERVICES = f"{PREFIX}:catalog:services"
BRANCHES = f"{PREFIX}:catalog:branches"


def _branch(branch_id: str) -> str:
    return f"{PREFIX}:{{b:{branch_id}}}"


def branch_settings(branch_id: str) -> str:
    """JSON of the branch's schedule settings."""
    return f"{_branch(branch_id)}:settings"


def branch_dates(branch_id: str) -> str:
    """Hash date -> JSON of a per-date closure or quota override."""
    return f"{_branch(branch_id)}:dates"


def slot_counts(branch_id: str, day: str) -> str:
    """Hash slot start -> active bookings in that slot."""
    return f"{_branch(branch_id)}:slots:{day}"


def day_counts(branch_id: str, day: str) -> str:
    """Hash ``total`` and ``svc:<service>`` -> active bookings that day."""
    return f"{_branch(branch_id)}:day:{day}"


def queue_sequence(branch_id: str, day: str) -> str:
    """Hash service -> last queue number issued that day (never decremented)."""
    return f"{_branch(branch_id)}:seq:{day}"


def day_bookings(branch_id: str, day: str) -> str:
    """Sorted set of the day's booking codes, scored by creation time."""
    return f"{_branch(branch_id)}:bookings:{day}"


def booking(branch_id: str, code: str) -> str:
    """Hash of one booking."""
    return f"{_branch(branch_id)}:booking:{code}"


def _person(nik_digest: str) -> str:
    return f"{PREFIX}:{{n:{nik_digest}}}"


def nik_day_claim(nik_digest: str, day: str) -> str:
    """Hash: which booking holds this NIK's date (``branch``, ``code``, ``state``, ``at``)."""
    return f"{_person(nik_digest)}:day:{day}"


def nik_code_index(nik_digest: str, code: str) -> str:
    """String: the branch of booking ``code`` made with this NIK (look-up needs code + NIK)."""
    return f"{_person(nik_digest)}:code:{code}"


def sms_outbox(branch_id: str) -> str:
    """Sorted set ``<code>:<event>`` -> creation time (ms): SMS events not yet settled.

    The reservation scripts add to it in the same step as the booking change, so no
    booking or cancellation exists without its SMS record.
    """
    return f"{_branch(branch_id)}:sms:outbox"


def sms_reminders(branch_id: str) -> str:
    """Sorted set ``<code>:reminder`` -> when the reminder is due (ms)."""
    return f"{_branch(branch_id)}:sms:reminders"


def sms_delivery(branch_id: str, code: str, event: str) -> str:
    """Hash of one SMS event's delivery: state, attempts, Twilio SID and status."""
    return f"{_branch(branch_id)}:sms:{code}:{event}"


# Captcha challenges live under their own tag ``{c:<id>}``, so the answer and the cached
# audio clip sit in one cluster slot and are consumed together.


def _challenge(captcha_id: str) -> str:
    return f"{PREFIX}:{{c:{captcha_id}}}"


def captcha_answer(captcha_id: str) -> str:
    """String: the challenge's answer; its TTL is the challenge's life."""
    return f"{_challenge(captcha_id)}:answer"


def captcha_audio(captcha_id: str) -> str:
    """String: the challenge's WAV clip, cached once spoken, for the challenge's remaining life."""
    return f"{_challenge(captcha_id)}:audio"


# Rate-limit counters are named by flask-limiter (``LIMITS:LIMITER/antrian/...``); the
# per-person ones carry a keyed hash of the NIK or phone, never the value itself.
