"""A booking as a participant asks for it and as it is stored, and how long its keys live."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from queue_service.domain import schedules

# Statuses that hold the NIK's date; a cancelled booking, or a hold released unverified
# ("expired"), frees it. "pending" is a place held until the phone's one-time code confirms it.
HOLDING_STATUSES = frozenset({"pending", "booked", "checked_in", "called", "served", "no_show"})
PENDING = "pending"
# Keys of a booking live at least this long from the moment they are written (Redis's own
# clock), whatever the caller's clock says the visit day is.
MIN_KEEP_MS = 24 * 3600 * 1000
# The fields of a booking's record that lead to its person, all removed by its erasure: who
# they are, where they booked from, the registry's verdict on them, and a hold's one-time code.
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

    @classmethod
    def from_hash(cls, branch_id: str, code: str, data: dict[str, str]) -> Booking:
        """The booking ``code`` of ``branch_id`` from its stored record (which names neither:
        its key does)."""
        return cls(
            code=code,
            queue_number=data["queue_number"],
            status=data["status"],
            branch_id=branch_id,
            service_id=data["service_id"],
            date=dt.date.fromisoformat(data["date"]),
            slot_start=dt.time.fromisoformat(data["slot"]),
            slot_end=dt.time.fromisoformat(data["slot_end"]),
            # An erased booking ("erased_at") keeps none of them.
            name=data.get("name", ""),
            nik=data.get("nik", ""),
            kpj=data.get("kpj", ""),
            phone=data.get("phone", ""),
            email=data.get("email") or None,
            created_ms=int(data["created_ms"]),
            registry=data.get("registry") or None,
            address=data.get("address") or None,
            verify_by_ms=int(data["verify_by_ms"]) if data.get("verify_by_ms") else None,
            erased="erased_at" in data,
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


def stored_record(request: BookingRequest, slot: schedules.Slot) -> dict[str, str]:
    """The fields of a new booking's record that the request gives."""
    record = {
        "service_id": request.service_id,
        "date": request.date.isoformat(),
        "slot": slot.label,
        "slot_end": slot.end_label,
        "name": request.name,
        "nik": request.nik,
        "kpj": request.kpj,
        "phone": request.phone,
    }
    if request.email:  # most have none: no empty field kept for months
        record["email"] = request.email
    return record


def expire_at_ms(day: dt.date, timezone: str, retention: dt.timedelta) -> int:
    """When the keys of a booking on ``day`` expire: ``retention`` after the day ends, in the
    branch's time zone (ms since the epoch)."""
    end_of_day = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=ZoneInfo(timezone))
    return int((end_of_day + retention).timestamp() * 1000)
