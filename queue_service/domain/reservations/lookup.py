"""Finding a booking: by its branch and code, or as a participant does, by code and NIK."""

from __future__ import annotations

import hmac

from redis import Redis

from queue_service.domain.codes import normalise_code
from queue_service.domain.errors import NotFoundError
from queue_service.domain.reservations.records import Booking
from queue_service.store import keys


def waitlist_only(data: dict[str, str]) -> bool:
    """Whether a record is a waitlist entry (domain.waitlist) that is no booking: not accepted,
    and waiting for its phone's code, in line, offered a place, or left. One released
    ("expired": its code or its offer ran out) is read as a released hold is."""
    return bool(data.get("waitlist")) and not data.get("accepted_ms") and data["status"] != "expired"


class BookingLookup:
    """Look-ups of bookings over the data store (``decode_responses=True``)."""

    def __init__(self, redis: Redis):
        self.redis = redis

    def get(self, branch_id: str, code: str, entries: bool = False) -> Booking:
        """The booking ``code`` of ``branch_id``; with ``entries`` a waitlist entry not yet
        accepted too (read as a booking: erasure erases one as it does a booking).

        Raises:
            NotFoundError: there is none.
        """
        data = self.redis.hgetall(keys.booking(branch_id, code))
        if not data or data.get("walk_in"):  # a walk-in ticket is no booking
            raise NotFoundError("booking")
        if waitlist_only(data) and not entries:
            raise NotFoundError("booking")
        booking = Booking.from_hash(branch_id, code, data)
        if booking.erased:  # its person erased: found by no one
            raise NotFoundError("booking")
        return booking

    def find(self, typed_code: str) -> Booking:
        """The booking with this code (typed in any case, with spaces or dashes), in the
        branch its code names.

        Raises:
            NotFoundError: the code is malformed, or no booking has it.
        """
        code = normalise_code(typed_code)
        branch_id = self.redis.get(keys.code_branch(code)) if code is not None else None
        if branch_id is None:
            raise NotFoundError("booking")
        return self.get(branch_id, code)

    def lookup(self, typed_code: str, nik: str, entries: bool = False) -> Booking:
        """The booking with this code and NIK (``entries``: as ``get``); a wrong pair is refused
        like an unknown code.

        Raises:
            NotFoundError: no booking has this code with this NIK.
        """
        code = normalise_code(typed_code)
        nik = nik.strip()  # as booking does, so a stray space does not hide a booking
        if code is None:
            raise NotFoundError("booking")
        # The code names its branch; the booking there must carry the NIK as well.
        branch_id = self.redis.get(keys.code_branch(code))
        if branch_id is None:
            raise NotFoundError("booking")
        booking = self.get(branch_id, code, entries)
        if not hmac.compare_digest(booking.nik.encode(), nik.encode()):
            raise NotFoundError("booking")
        return booking
