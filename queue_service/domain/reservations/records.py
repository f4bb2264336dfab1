"""A booking as a participant asks for it and as it is stored, and how long its keys live."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from queue_service.domain import schedules
from queue_service.store import keys, sealing

# Statuses that hold the NIK's date; a cancelled booking, or a hold released unverified
# ("expired"), frees it. "pending" is a place held until the phone's one-time code confirms it;
# "waiting" a waitlist entry, "offered" one whose offer of a place holds it (domain.waitlist).
HOLDING_STATUSES = frozenset(
    {"pending", "booked", "checked_in", "called", "served", "no_show", "waiting", "offered"}
)
PENDING = "pending"
# Holds with a deadline that release_holds.lua lets go: a place held for its phone's one-time
# code, and a waitlist offer.
HELD_STATUSES = frozenset({PENDING, "offered"})
# Keys of a booking live at least this long from the moment they are written (Redis's own
# clock), whatever the caller's clock says the visit day is.
MIN_KEEP_MS = 24 * 3600 * 1000
# A booking's person (name, NIK, KPJ, phone, e-mail) is sealed as one value (store.sealing:
# AES-GCM, bound to the booking's key and to this name): one nonce and tag a booking, not five.
# It is stored in pieces of at most CHUNK characters, fields "person:0", "person:1", ...: a
# longer value would turn the whole hash from Redis's compact listpack (hash-max-listpack-value,
# 64 by default) into a table three times its size.
SEALED_FIELD = "person"
CHUNK = 64
# What it holds, in this order, joined by SEPARATOR (which none of them may contain); records
# written before sealing hold them as fields of their own, in clear.
SEALED_NAMES = ("name", "nik", "kpj", "phone", "email", "address")
SEPARATOR = "\x1f"
# The fields of a booking's record that lead to its person, all removed by its erasure (with
# every "person:<n>" piece): who they are (in clear in a record written before sealing), where
# they booked from, the registry's verdict on them, and a hold's one-time code.
PERSONAL_FIELDS = (
    "name",
    "nik",
    "kpj",
    "phone",
    "email",
    "address",
    "registry",
    "otp",
    "otp_sends",
    "otp_sent_ms",
    "otp_failures",
    "verify_by_ms",
)
# How a participant is messaged: "sms" (the default, and every record written before the choice
# existed, which lacks the field) or "whatsapp"; and the language they booked in, which the
# replies to their WhatsApp messages use: "id" (the default, absent) or "en".
CHANNELS = ("sms", "whatsapp")
DEFAULT_CHANNEL = "sms"
LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"


@dataclass(frozen=True)
class BookingRequest:
    """What a participant asks for, already validated field by field."""

    branch_id: str
    service_id: str
    date: dt.date
    slot: dt.time
    name: str
    nik: str
    kpj: str
    phone: str
    email: str | None = None
    channel: str = DEFAULT_CHANNEL
    language: str = DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Booking:
    """A booking as stored."""

    code: str
    queue_number: str
    status: str
    branch_id: str
    service_id: str
    date: dt.date
    slot_start: dt.time
    slot_end: dt.time
    name: str
    nik: str
    kpj: str
    phone: str
    email: str | None
    created_ms: int
    # "unchecked": made while the participant registry gave no verdict (failure open).
    registry: str | None = None
    # The client address it was booked from (for the console's hoarding view); None for
    # bookings made by staff or before it was recorded.
    address: str | None = None
    # A hold's deadline for its one-time code (ms since the epoch); None once booked at once.
    verify_by_ms: int | None = None
    # Its personal data was erased: it counts in the day's figures and is found by no one.
    erased: bool = False
    channel: str = DEFAULT_CHANNEL
    language: str = DEFAULT_LANGUAGE

    @classmethod
    def from_hash(cls, branch_id: str, code: str, data: dict[str, str]) -> Booking:
        """The booking ``code`` of ``branch_id`` from its stored record (which names neither:
        its key does); its personal fields opened.

        Raises:
            SealError: they are sealed under a key ``DATA_KEYS`` no longer holds, or altered.
        """
        person = personal_fields(branch_id, code, data)
        return cls(
            code=code,
            queue_number=data["queue_number"],
            status=data["status"],
            branch_id=branch_id,
            service_id=data["service_id"],
            date=dt.date.fromisoformat(data["date"]),
            # A waitlist entry for any slot names none until an offer does (domain.waitlist):
            # read as midnight by the steps that take it for a hold (its code's message).
            slot_start=dt.time.fromisoformat(data["slot"] or "00:00"),
            slot_end=dt.time.fromisoformat(data["slot_end"] or "00:00"),
            # An erased booking ("erased_at") keeps none of them.
            name=person.get("name", ""),
            nik=person.get("nik", ""),
            kpj=person.get("kpj", ""),
            phone=person.get("phone", ""),
            email=person.get("email") or None,
            created_ms=int(data["created_ms"]),
            registry=data.get("registry") or None,
            address=person.get("address") or None,
            verify_by_ms=int(data["verify_by_ms"]) if data.get("verify_by_ms") else None,
            erased="erased_at" in data,
            channel=data.get("channel") or DEFAULT_CHANNEL,
            language=data.get("language") or DEFAULT_LANGUAGE,
        )

    @property
    def verify_by(self) -> dt.datetime | None:
        """A hold's deadline for its one-time code (UTC), if it was held."""
        if self.verify_by_ms is None:
            return None
        return dt.datetime.fromtimestamp(self.verify_by_ms / 1000, dt.UTC)

    def starts_at(self, timezone: str) -> dt.datetime:
        """When its slot starts, in its branch's ``timezone``: from then on it can be neither
        cancelled nor moved."""
        return dt.datetime.combine(self.date, self.slot_start, tzinfo=ZoneInfo(timezone))


def sealed_pieces(data: dict[str, str]) -> list[str]:
    """The pieces of a record's sealed person, in order (none: erased, or written before
    sealing)."""
    pieces = []
    while (piece := data.get(f"{SEALED_FIELD}:{len(pieces)}")) is not None:
        pieces.append(piece)
    return pieces


def personal_fields(branch_id: str, code: str, data: dict[str, str]) -> dict[str, str]:
    """The name, NIK, KPJ, phone, e-mail and client address a booking's record holds (opened
    where sealed, as they are in a record written before sealing; none once erased).

    Raises:
        SealError: sealed under a key ``DATA_KEYS`` no longer holds, or altered.
    """
    # In clear: every field of a record written before sealing, and the address of one
    # written before the address was sealed too (its seal holds the others).
    clear = {name: data[name] for name in SEALED_NAMES if name in data}
    pieces = sealed_pieces(data)
    if not pieces:
        return clear
    text = sealing.keyring().open("".join(pieces), keys.booking(branch_id, code), SEALED_FIELD)
    opened = zip(SEALED_NAMES, text.split(SEPARATOR), strict=False)
    return {**clear, **{name: value for name, value in opened if value}}


def sealed_fields(branch_id: str, code: str, person: dict[str, str]) -> dict[str, str]:
    """``person``'s fields (as ``personal_fields`` reads them) sealed under the first data key
    for booking ``code`` of ``branch_id``, as the record's "person:<n>" fields.

    Raises:
        ValueError: a value holds the separator (no field that passed validation can).
    """
    values = [person.get(name) or "" for name in SEALED_NAMES]
    if any(SEPARATOR in value for value in values):
        raise ValueError("a personal field holds a control character")
    sealed = sealing.keyring().seal(
        SEPARATOR.join(values).rstrip(SEPARATOR), keys.booking(branch_id, code), SEALED_FIELD
    )
    return {
        f"{SEALED_FIELD}:{n}": sealed[start : start + CHUNK]
        for n, start in enumerate(range(0, len(sealed), CHUNK))
    }


def stored_record(
    request: BookingRequest, slot: schedules.Slot, code: str, marks: dict[str, str] | None = None
) -> dict[str, str]:
    """The fields of new booking ``code``'s record that the request gives, and its ``marks``
    (the registry's verdict; the client's ``address``, which is the person's and sealed with
    them, the rest as they are). Most have no e-mail: none is kept then; nor a default
    channel or language, so that most records stay as small as before the choices existed."""
    marks = dict(marks or {})
    person = {name: getattr(request, name) for name in SEALED_NAMES if name != "address"}
    person["address"] = marks.pop("address", "")
    return {
        "service_id": request.service_id,
        "date": request.date.isoformat(),
        "slot": slot.label,
        "slot_end": slot.end_label,
        **sealed_fields(request.branch_id, code, person),
        **({"channel": request.channel} if request.channel != DEFAULT_CHANNEL else {}),
        **({"language": request.language} if request.language != DEFAULT_LANGUAGE else {}),
        **marks,
    }


def expire_at_ms(day: dt.date, timezone: str, retention: dt.timedelta) -> int:
    """When the keys of a booking on ``day`` expire: ``retention`` after the day ends, in the
    branch's time zone (ms since the epoch)."""
    end_of_day = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=ZoneInfo(timezone))
    return int((end_of_day + retention).timestamp() * 1000)
