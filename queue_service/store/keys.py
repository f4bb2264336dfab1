"""Every Redis key the service uses, built in one place.

All keys of one branch share the hash tag ``{b:<branch_id>}`` so that each atomic
reservation touches a single Redis Cluster slot. The one cross-branch rule (one
active booking per NIK per date) lives under the NIK's own tag ``{n:<digest>}``, and the
cap of active bookings per phone under the phone's own ``{p:<digest>}``; the digests are
keyed hashes, so no NIK or phone number appears in a key name.
"""

from __future__ import annotations

import hashlib

PREFIX = "antrian"

# The catalog is small, global and read-mostly. Each branch keeps a copy of its own entry and
# services under its tag (``branch_catalog``): these are the master lists.
AREAS = f"{PREFIX}:catalog:areas"
SERVICES = f"{PREFIX}:catalog:services"
BRANCHES = f"{PREFIX}:catalog:branches"
# Hash date -> JSON note: the national closures a national admin sets (the master list;
# each branch keeps a copy under its own tag, which its reserve script reads).
NATIONAL_CLOSURES = f"{PREFIX}:calendar:closures"
# In the job queue's Redis: hash "<event>:<state>" -> how many SMS jobs ended so (/metrics).
SMS_OUTCOMES = f"{PREFIX}:metrics:sms-outcomes"


def _branch(branch_id: str) -> str:
    return f"{PREFIX}:{{b:{branch_id}}}"


def branch_catalog(branch_id: str) -> str:
    """Hash ``branch`` -> the branch's catalog entry, ``service:<id>`` -> each of its services'
    (offered or withdrawn): a copy of the catalog's under the branch's tag, so that its pages,
    bookings and kiosks need only the node that holds the branch (``catalog.copy_to_branches``)."""
    return f"{_branch(branch_id)}:catalog"


def branch_settings(branch_id: str) -> str:
    """JSON of the branch's schedule settings."""
    return f"{_branch(branch_id)}:settings"


def branch_dates(branch_id: str) -> str:
    """Hash date -> JSON of a per-date closure or quota override."""
    return f"{_branch(branch_id)}:dates"


def branch_national_closures(branch_id: str) -> str:
    """Hash date -> JSON note: the branch's copy of the national closures."""
    return f"{_branch(branch_id)}:national-closures"


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
    """List of the day's booking codes, in the order they were booked (or moved in). A list:
    a dozen bytes a booking, where a sorted set of thousands took a hundred."""
    return f"{_branch(branch_id)}:day-codes:{day}"


def booking(branch_id: str, code: str) -> str:
    """Hash of one booking."""
    return f"{_branch(branch_id)}:booking:{code}"


def booking_idempotency(branch_id: str, key: str) -> str:
    """String ``<digest of the request> <code>``: the booking a ``POST /api/v1/bookings`` with
    this ``Idempotency-Key`` made, written by the reserve script with the booking. Named by
    the key's SHA-256: the client's key is never stored."""
    return f"{_branch(branch_id)}:idem:{hashlib.sha256(key.encode()).hexdigest()}"


# Every booking of every branch, for SCAN (rotate-data-key); ``booking_of`` reads one's name.
BOOKINGS_PATTERN = f"{PREFIX}:{{b:*}}:booking:*"


def booking_of(key: str) -> tuple[str, str] | None:
    """``(branch_id, code)`` of a booking's key, or None for any other key."""
    head, _, code = key.rpartition("}:booking:")
    branch_id = head.removeprefix(f"{PREFIX}:{{b:")
    if branch_id == head or not code or ":" in code or booking(branch_id, code) != key:
        return None
    return branch_id, code


def replication_mark(branch_id: str) -> str:
    """String: the last booking confirmed at the branch on a Redis Cluster, written just before
    ``WAIT`` on the same connection, so the replicas' count covers the booking (reserve.py)."""
    return f"{_branch(branch_id)}:replicated"


def branch_holds(branch_id: str) -> str:
    """Sorted set code -> deadline (ms): the branch's places held until their phone's
    one-time code confirms them (``PHONE_VERIFICATION``)."""
    return f"{_branch(branch_id)}:holds"


def hold_release_prefixes(branch_id: str) -> list[str]:
    """The prefixes that name a hold's booking, slot counts and day counts once its code or
    day is appended: release_holds.lua finds which holds ran out only as it runs."""
    return [booking(branch_id, ""), slot_counts(branch_id, ""), day_counts(branch_id, "")]


def _room(branch_id: str, room_id: str) -> str:
    return f"{_branch(branch_id)}:room:{room_id}"


def room(branch_id: str, room_id: str) -> str:
    """Hash of one waiting room (one release of the branch): its times, rate, lottery seed and
    where admission has got."""
    return _room(branch_id, room_id)


def room_arrivals(branch_id: str, room_id: str) -> str:
    """Sorted set ticket -> arrival (ms): tickets that came before the lottery."""
    return f"{_room(branch_id, room_id)}:arrivals"


def room_line(branch_id: str, room_id: str) -> str:
    """Sorted set ticket -> index: the line after the lottery."""
    return f"{_room(branch_id, room_id)}:line"


def room_tickets(branch_id: str, room_id: str) -> str:
    """Hash ticket -> the address it joined from."""
    return f"{_room(branch_id, room_id)}:tickets"


def room_addresses(branch_id: str, room_id: str) -> str:
    """Hash address -> tickets it holds in the room."""
    return f"{_room(branch_id, room_id)}:addresses"


def room_polls(branch_id: str, room_id: str) -> str:
    """Hash ticket -> when it was last asked about (ms)."""
    return f"{_room(branch_id, room_id)}:polls"


def room_passes(branch_id: str, room_id: str) -> str:
    """Hash ticket -> the keyed hash of the NIK whose booking used its pass."""
    return f"{_room(branch_id, room_id)}:passes"


def closed_days(branch_id: str) -> str:
    """Sorted set date -> its ordinal: the branch's days closed by the end-of-day step (their
    bookings still ``booked`` marked ``no_show``), so that step skips them next time."""
    return f"{_branch(branch_id)}:closed-days"


def closure_codes(branch_id: str, closure_id: str) -> str:
    """Set of the booking codes a closure of days cancelled at the branch, written by the step
    that cancels them (``close_bookings.lua``)."""
    return f"{_branch(branch_id)}:closure:{closure_id}:codes"


def closure_days(branch_id: str, closure_id: str) -> str:
    """Hash date -> JSON ``{"before", "after"}``: the branch's per-date overrides a closure of
    days wrote, and what each replaced (restored when it is reopened)."""
    return f"{_branch(branch_id)}:closure:{closure_id}:days"


# Closures of a range of days (``domain.closures``): each record and the lists that find them
# share the tag ``{closures}``, so a record and its place in the lists are written in one step.
_CLOSURES = f"{PREFIX}:{{closures}}"
NATIONAL_RANGE_CLOSURES = f"{_CLOSURES}:national"
"""Sorted set closure id -> created (ms): the closures of every branch."""


def closure(closure_id: str) -> str:
    """Hash of one closure of days: its branches, range, note, who, when, reopened."""
    return f"{_CLOSURES}:{closure_id}"


def branch_range_closures(branch_id: str) -> str:
    """Sorted set closure id -> created (ms): the closures of days of one branch."""
    return f"{_CLOSURES}:branch:{branch_id}"


def national_closure_days(closure_id: str) -> str:
    """Hash date -> JSON ``{"before", "after"}``: the national closures a closure of every
    branch wrote, and what each replaced (restored when it is reopened)."""
    return f"{_CLOSURES}:{closure_id}:national-days"


def _person(nik_digest: str) -> str:
    return f"{PREFIX}:{{n:{nik_digest}}}"


def nik_day_claim(nik_digest: str, day: str) -> str:
    """Hash: which booking holds this NIK's date (``branch``, ``code``, ``state``, ``at``)."""
    return f"{_person(nik_digest)}:day:{day}"


def phone_bookings(phone_digest: str) -> str:
    """Hash code -> ``<end of its visit day, ms> <branch> <counted at, ms>``: the bookings
    counted against one phone's cap (``BOOKINGS_PER_PHONE``), under the phone's own tag
    ``{p:<digest>}`` (a keyed hash: no phone number in a key name)."""
    return f"{PREFIX}:{{p:{phone_digest}}}:bookings"


def phone_stopped(phone_digest: str) -> str:
    """String, present while the phone's owner has asked for no more messages (WhatsApp
    ``BERHENTI``/``STOP``, undone by ``MULAI``): every sender skips the phone meanwhile."""
    return f"{PREFIX}:{{p:{phone_digest}}}:stopped"


def phone_question(phone_digest: str) -> str:
    """String ``<branch> <code>``: the cancellation a phone's WhatsApp ``BATAL <kode>`` asked to
    confirm with ``YA``, for a few minutes."""
    return f"{PREFIX}:{{p:{phone_digest}}}:question"


def sms_outbox(branch_id: str) -> str:
    """Sorted set ``<code>:<event>`` -> creation time (ms): SMS events not yet settled.

    The reservation scripts add to it in the same step as the booking change, so no
    booking or cancellation exists without its SMS record.
    """
    return f"{_branch(branch_id)}:sms:outbox"


def sms_reminders(branch_id: str) -> str:
    """Sorted set ``<code>:reminder`` -> when the reminder is due (ms): the reminders of the
    days whose eve has come (``plan_reminders.lua``), until each is settled."""
    return f"{_branch(branch_id)}:sms:reminders"


def sms_reminders_planned(branch_id: str) -> str:
    """Hash date -> when (ms) that day's reminders were put on the branch's reminders."""
    return f"{_branch(branch_id)}:sms:reminders-planned"


def sms_delivery(branch_id: str, code: str, event: str) -> str:
    """Hash of one SMS event's delivery while it is pending: state, attempts, text, Twilio SID
    and status. Settled, it is packed into two fields of the booking (``sms_settle.lua``)."""
    return f"{_branch(branch_id)}:sms:{code}:{event}"


# Accounts and their API tokens share the tag ``{accounts}``: creating an account with its
# first token, or revoking a token, is one atomic step in one cluster slot.
_ACCOUNTS = f"{PREFIX}:{{accounts}}"
ACCOUNTS = f"{_ACCOUNTS}:users"
"""Hash username -> JSON of the account (role, branches, password hash, disabled, must change
its password)."""
API_TOKENS = f"{_ACCOUNTS}:tokens"
"""Hash SHA-256 of a token -> JSON (token id, username, name, created, expiry)."""
TOKEN_LAST_USE = f"{_ACCOUNTS}:token-last-use"
"""Hash SHA-256 of a token -> when it was last used (ms), written at most once a minute."""


KIOSKS = f"{_ACCOUNTS}:kiosks"
"""Hash kiosk id -> JSON of the kiosk (branch, name, created, revoked)."""
KIOSK_TOKENS = f"{_ACCOUNTS}:kiosk-tokens"
"""Hash SHA-256 of a kiosk token -> kiosk id."""


def code_branch(code: str) -> str:
    """String: the branch of booking ``code``, for look-ups (which check the NIK there) and
    for a kiosk of another branch to say so. Its own tag: written apart from the booking
    (before it, and taken back by a refused attempt), so it may name a booking that never
    committed, never the other way round."""
    return f"{PREFIX}:{{k:{code}}}:branch"


def day_checkins(branch_id: str, day: str) -> str:
    """Sorted set code -> check-in time (ms): the day's arrivals, for the live queue."""
    return f"{_branch(branch_id)}:checkins:{day}"


def account_tokens(username: str) -> str:
    """Hash token id -> SHA-256 of the token: the tokens of one account, for listing and revoking."""
    return f"{_ACCOUNTS}:user-tokens:{username}"


def staff_session(digest: str) -> str:
    """Hash of a signed-in console or counter session (SHA-256 of its id): username, surface,
    address, started and last used (ms)."""
    return f"{_ACCOUNTS}:sessions:{digest}"


def account_sessions(username: str) -> str:
    """Sorted set session digest -> start (ms): the sessions of one account, for listing and
    ending them (members whose session expired are pruned as they are met)."""
    return f"{_ACCOUNTS}:user-sessions:{username}"


def sign_in_failures(kind: str, digest: str) -> str:
    """Failed console sign-ins (a keyed hash names the account or address): ``address``, a
    counter of one address's failures on every name; ``account``, a hash of one account name's
    failures from every address (slowing it down) and per address (locking that pair out)."""
    return f"{_ACCOUNTS}:sign-in-failures:{kind}:{digest}"


def sign_in_known_addresses(digest: str) -> str:
    """Sorted set address digest -> last sign-in (ms): where an account name signed in lately,
    spared the slow-down that failures from elsewhere bring on."""
    return f"{_ACCOUNTS}:sign-in-known:{digest}"


def branch_audit(branch_id: str) -> str:
    """Stream of the branch's audit entries, written in the same step as each change."""
    return f"{_branch(branch_id)}:audit"


# Changes that concern no one branch (national closures, accounts, sign-ins).
NATIONAL_AUDIT = f"{PREFIX}:{{national}}:audit"


# Captcha challenges live under their own tag ``{c:<id>}``, so the answer, the kept image and
# the kept audio clip sit in one cluster slot and are consumed together.


def attempts_from_address(address_digest: str, kind: str, window_seconds: int, person_digest: str) -> str:
    """Counter: booking attempts with one NIK or phone (``kind``) from one address in the
    current window of one part of the limit. An attempt's counters share the address's tag:
    one script counts them all."""
    return f"{PREFIX}:{{a:{address_digest}}}:{kind}:{window_seconds}:{person_digest}"


def _challenge(captcha_id: str) -> str:
    return f"{PREFIX}:{{c:{captcha_id}}}"


def captcha_answer(captcha_id: str) -> str:
    """String: the challenge's answer; its TTL is the challenge's life. Once consumed, briefly,
    ``~<attempt token>:<answer>``, so that a re-sent consume answers as the first did."""
    return f"{_challenge(captcha_id)}:answer"


def captcha_audio(captcha_id: str) -> str:
    """String: the challenge's WAV clip, kept once spoken for a minute at most, never past the
    challenge's life; dropped when the challenge is consumed."""
    return f"{_challenge(captcha_id)}:audio"


def captcha_image(captcha_id: str) -> str:
    """String: the challenge's PNG, kept once drawn (its first fetch) for the challenge's
    remaining life, so every fetch serves the same image; dropped when it is consumed."""
    return f"{_challenge(captcha_id)}:image"


# Rate-limit counters are named by flask-limiter (``LIMITS:LIMITER/antrian/...``); the
# per-person ones carry a keyed hash of the NIK or phone, never the value itself.


def form_attempt(token: str) -> str:
    """String: the booking (``branch code``) a submission of one booking form made, or
    ``pending`` while it is in flight; the token is random per rendered form."""
    return f"{PREFIX}:form-attempt:{token}"


# The live queue. A participant is named by their queue number (``A-007``), never by
# the booking code, so that what a display reads holds nothing secret.


def queue_waiting(branch_id: str, day: str, service_id: str, priority: bool = False) -> str:
    """Sorted set queue number -> order (slot, then arrival): who waits for a service that day;
    priority participants in a line of their own, so a call compares the two heads."""
    return f"{_branch(branch_id)}:queue:{day}:{'priority' if priority else 'waiting'}:{service_id}"


def queue_numbers(branch_id: str, day: str) -> str:
    """Hash queue number -> booking code: the day's checked-in participants, for the steps that
    name them by number."""
    return f"{_branch(branch_id)}:queue:{day}:numbers"


def queue_now_serving(branch_id: str, day: str) -> str:
    """Hash counter -> queue number last called there."""
    return f"{_branch(branch_id)}:queue:{day}:now-serving"


def queue_recent_calls(branch_id: str, day: str) -> str:
    """List, newest first, of ``p`` (priority) or ``n``: the last calls, for the priority share."""
    return f"{_branch(branch_id)}:queue:{day}:recent-calls"


def queue_announcements(branch_id: str, day: str) -> str:
    """Stream of the day's calls and recalls (``number``, ``counter``, ``kind``), newest last:
    what a display announces, each once, by its entry id."""
    return f"{_branch(branch_id)}:queue:{day}:announcements"


def queue_called_ahead(branch_id: str, day: str) -> str:
    """Set of the day's queue numbers already given their call-ahead SMS (each gets one)."""
    return f"{_branch(branch_id)}:queue:{day}:called-ahead"


def walk_in_counts(branch_id: str, day: str) -> str:
    """Hash: ``total`` walk-in tickets issued that day, and ``service:<id>`` each service's last
    walk-in number."""
    return f"{_branch(branch_id)}:queue:{day}:walk-ins"


def queue_requests(branch_id: str, day: str) -> str:
    """Hash request token -> JSON answer: each step's first answer, for a re-sent request."""
    return f"{_branch(branch_id)}:queue:{day}:requests"


def counters(branch_id: str) -> str:
    """Hash counter name -> comma-separated services it serves (empty: all the branch's)."""
    return f"{_branch(branch_id)}:counters"


def paused_counters(branch_id: str) -> str:
    """Set of the branch's counter names that are paused."""
    return f"{_branch(branch_id)}:counters:paused"


def service_durations(branch_id: str) -> str:
    """List, newest first, of the last service durations (seconds, call to served)."""
    return f"{_branch(branch_id)}:queue:durations"


# The waitlist (``domain.waitlist``). An entry is a record under ``booking`` (its waitlist id is
# its code): it holds the NIK's date and the phone's count from the moment it joins, becomes an
# offer (a hold on a place, in ``branch_holds``) and then a booking. Who waits for what is
# counted per service in ``waiters`` (the scripts that take a place read it beside the day's
# counts, store/lua/waiters_kept.lua); its figures for the console in the day's counts
# (``wl:joined``, ``wl:offered``, ``wl:accepted``, ``wl:expired``, ``wl:left``).


def waitlist(branch_id: str, day: str) -> str:
    """Sorted set code -> when it joined (ms): the day's waitlist entries still waiting, in order
    (an entry leaves it when it gets an offer or leaves)."""
    return f"{_branch(branch_id)}:waitlist:{day}"


def waiters(branch_id: str, day: str) -> str:
    """Hash ``<service>/<HH:MM>`` (waiting for that slot) or ``<service>/*`` (for any slot of
    the day) -> how many entries wait so: kept apart from the slot counts, which count places."""
    return f"{_branch(branch_id)}:waiters:{day}"


def waitlist_days(branch_id: str) -> str:
    """Sorted set date -> its ordinal: the branch's days with someone on the waitlist, for the
    worker's sweep to make any offer a freed place is owed."""
    return f"{_branch(branch_id)}:waitlist-days"
