"""The SMS texts, in Bahasa Indonesia, one GSM-7 segment (160 characters) each.

Only GSM-7 characters are used: one character outside that alphabet would switch the
whole message to UCS-2 and halve the segment to 70 characters.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from queue_service.domain import schedules
from queue_service.domain.catalog import Branch
from queue_service.domain.reservations import Booking

# A hold's one-time code: the first, then one event per code sent again (``otp2`` …), each
# sent at most once as every event is (see holds.SENDS_ALLOWED).
ONE_TIME_CODE_EVENTS = ("otp", "otp2", "otp3", "otp4")
# ``closed``: a booking cancelled because its branch closed that day (``domain.closures``).
# ``offer``: a place freed on a day with a waitlist, offered to a waitlist entry (domain.waitlist).
EVENTS = ("booked", "cancelled", "reminder", "call_ahead", "closed", "offer", *ONE_TIME_CODE_EVENTS)
SEGMENT_LENGTH = 160
# The kinds of message a WhatsApp template (a Content SID in TWILIO_WHATSAPP_TEMPLATES) can
# stand for: every event, a hold's codes sent again sharing the first's.
TEMPLATE_KINDS = ("otp", "booked", "reminder", "call_ahead", "cancelled", "closed", "offer")

DAY_NAMES = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")

# The GSM 03.38 basic character set; each costs one of a segment's 160 characters.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each costs two (an escape, then the character).
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")


def indonesian_date(day: dt.date) -> str:
    """``Selasa, 24 Nov 2026``."""
    return f"{DAY_NAMES[day.weekday()]}, {day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


def gsm7_length(text: str) -> int | None:
    """Characters ``text`` takes in GSM-7, or None if it needs UCS-2."""
    length = 0
    for char in text:
        if char in GSM7_BASIC:
            length += 1
        elif char in GSM7_EXTENDED:
            length += 2
        else:
            return None
    return length


def compose(
    event: str,
    booking: Booking,
    branch: Branch,
    manage_url: str | None = None,
    one_time_code: str | None = None,
    note: str | None = None,
    book_again_url: str | None = None,
) -> str:
    """The SMS for ``event`` (``booked``, ``cancelled``, ``reminder``, ``call_ahead``,
    ``closed``, or a hold's ``otp…`` carrying ``one_time_code``) of ``booking``; a confirmation
    carries ``manage_url`` (the short link to look the booking up, reschedule or cancel it)
    where one segment holds it; a closure's cancellation its ``note`` (why) and
    ``book_again_url`` (the branch's dates for the same service).

    Raises:
        ValueError: an unknown event.
    """
    when = (
        f"{indonesian_date(booking.date)} {booking.slot_start:%H:%M}-{booking.slot_end:%H:%M} "
        f"{schedules.timezone_label(branch.timezone)}"
    )
    place = f"BPJSTK {branch.name}"
    if event in ONE_TIME_CODE_EVENTS:
        # The code first, where a phone's preview and its autofill find it; the warning
        # because a *calo* asks for it ("sebutkan kodenya").
        zone = ZoneInfo(branch.timezone)
        until = f"{booking.verify_by.astimezone(zone):%H:%M} {schedules.timezone_label(branch.timezone)}"
        return (
            f"{one_time_code} adalah kode verifikasi antrian {place} {indonesian_date(booking.date)}, "
            f"berlaku s.d. {until}. JANGAN berikan kode ini kepada siapa pun."
        )
    if event == "offer":
        # A waitlist offer: the place, until when it is held, and the link to accept it (its
        # page asks the NIK); without a public URL the waitlist id, for the site's page.
        # The deadline's zone is the slot's, said once; one segment with the demo's base URL.
        until = offer_deadline(booking, branch).split(" ")[0]
        accept = f"Terima: {manage_url}" if manage_url else f"Kode daftar tunggu {booking.code}"
        return f"{place}: ada tempat {when}, berlaku s.d. {until}. {accept}"
    if event == "booked":
        if manage_url:
            # The link replaces the advice on what to bring (the page says it), where one
            # segment holds it; a long branch name or base URL keeps the advice instead.
            linked = (
                f"{place}: antrian {booking.queue_number}, {when}. Kode {booking.code}. "
                f"Ubah/batal: {manage_url}"
            )
            if (gsm7_length(linked) or SEGMENT_LENGTH + 1) <= SEGMENT_LENGTH:
                return linked
        return (
            f"{place}: antrian {booking.queue_number}, {when}. Kode {booking.code}. "
            f"Bawa KTP & kartu peserta, tunjukkan kode ini di kios."
        )
    if event == "reminder":
        return (
            f"Pengingat {place}: besok {when}, antrian {booking.queue_number}, "
            f"kode {booking.code}. Bawa KTP & kartu peserta."
        )
    if event == "call_ahead":
        # The counter is not known until the call: the display names it then.
        return (
            f"{place}: antrian {booking.queue_number}, giliran Anda sebentar lagi. "
            f"Mohon tetap di ruang tunggu dan perhatikan layar panggilan."
        )
    if event == "cancelled":
        return (
            f"{place}: antrian {booking.queue_number} {when} kode {booking.code} "
            f"DIBATALKAN. Pesan ulang di antrian online bila perlu."
        )
    if event == "closed":
        # Why first (the admin's note may take the text past one segment: it is what the
        # participant most needs), then which booking, then where to book another day.
        why = " ".join((note or "").split()).rstrip(".")
        again = (
            f"Pesan hari lain: {book_again_url}" if book_again_url else "Pesan hari lain di antrian online."
        )
        return (
            f"{place} TUTUP{f': {why}' if why else ''}. {_closed_what(booking, when)} "
            f"kode {booking.code} DIBATALKAN. {again}"
        )
    raise ValueError(f"unknown SMS event {event!r}")


def template_kind(event: str) -> str:
    """The kind of WhatsApp template ``event``'s message uses (``otp2`` … use ``otp``'s)."""
    return "otp" if event in ONE_TIME_CODE_EVENTS else event


def template_variables(
    event: str,
    booking: Booking,
    branch: Branch,
    manage_url: str | None = None,
    one_time_code: str | None = None,
    note: str | None = None,
    book_again_url: str | None = None,
) -> dict[str, str]:
    """The values of a WhatsApp template's numbered placeholders for ``event`` (README
    "WhatsApp" lists them per kind): ``{"1": place, …}``, every value non-empty (Twilio refuses
    an empty one), in the order the SMS says them.

    Raises:
        ValueError: an unknown event.
    """
    place = f"BPJSTK {branch.name}"
    zone = schedules.timezone_label(branch.timezone)
    when = f"{indonesian_date(booking.date)} {booking.slot_start:%H:%M}-{booking.slot_end:%H:%M} {zone}"
    kind = template_kind(event)
    if kind == "otp":
        until = f"{booking.verify_by.astimezone(ZoneInfo(branch.timezone)):%H:%M} {zone}"
        values = [one_time_code or "", place, indonesian_date(booking.date), until]
    elif kind in ("booked", "reminder", "cancelled"):
        values = [place, booking.queue_number, when, booking.code]
        if kind == "booked":
            values.append(manage_url or "-")
    elif kind == "call_ahead":
        values = [place, booking.queue_number]
    elif kind == "offer":
        values = [place, when, offer_deadline(booking, branch), manage_url or booking.code]
    elif kind == "closed":
        why = " ".join((note or "").split()).rstrip(".") or "-"
        what = _closed_what(booking, when, named=False)
        values = [place, why, booking.queue_number or "-", what, booking.code, book_again_url or "-"]
    else:
        raise ValueError(f"unknown SMS event {event!r}")
    return {str(number): value for number, value in enumerate(values, start=1)}


def _closed_what(booking: Booking, when: str, named: bool = True) -> str:
    """What a closure cancelled: ``Antrian A-001 <when>``, or a waitlist entry not yet accepted
    (domain.closures closes those too), which has no queue number, nor a slot while it waited
    for any: ``Daftar tunggu <date>``; without ``named`` only the when (or the date)."""
    if booking.queue_number:
        return f"Antrian {booking.queue_number} {when}" if named else when
    date = indonesian_date(booking.date)
    return f"Daftar tunggu {date}" if named else date


def offer_deadline(booking: Booking, branch: Branch) -> str:
    """Until when a waitlist offer holds its place: ``10:30 WIB`` (its day is the visit's)."""
    zone = ZoneInfo(branch.timezone)
    return f"{booking.verify_by.astimezone(zone):%H:%M} {schedules.timezone_label(branch.timezone)}"
