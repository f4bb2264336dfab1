"""Answering a participant's WhatsApp (or SMS) message: the words the service understands.

- ``STATUS``: the sender's active bookings (queue number, branch, date, slot with its zone,
  and the place in line once checked in), and their waitlist entries, said to be such (and
  an offer's place);
- ``BATAL <kode>`` asks to confirm with ``YA`` (remembered for ``QUESTION_SECONDS``), which then
  cancels through the same path as the pages, only a booking made with the sender's phone (a
  waitlist entry leaves its waitlist, as its page's "leave" does);
- ``BANTUAN`` (and any text it does not know) lists the words;
- ``BERHENTI``/``STOP`` stops every message to the number (``opt_outs``), ``MULAI`` undoes it.

A phone's bookings are found through its cap's entries (``phone_caps``: code and branch of
each booking counted against it), never by a scan. The answers are in the language of the
sender's latest booking: Indonesian, or English for a booking made in English. An answer says
nothing of a code that is not the sender's: another phone's booking and no booking read alike.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping

from queue_service.domain import catalog, schedules
from queue_service.domain.codes import normalise_code
from queue_service.domain.errors import CancelledError, DomainError, NotFoundError, TooLateError
from queue_service.domain.identity import check_phone
from queue_service.domain.opt_outs import OptOuts
from queue_service.domain.reservations import Booking, Reservations
from queue_service.domain.reservations.phone_caps import ACTIVE_STATUSES
from queue_service.domain.waitlist import Waitlist
from queue_service.store import keys

log = logging.getLogger(__name__)

# How long a BATAL waits for its YA (on Redis's clock: SET ... PX).
QUESTION_SECONDS = 300
# Who a cancellation by reply is recorded as made by (the booking's ``cancelled_by``).
CANCELLED_BY = "participant"
# The words, the English ones a participant who booked in English may send too.
WORDS = {
    "STATUS": "status",
    "BATAL": "cancel",
    "CANCEL": "cancel",
    "YA": "yes",
    "YES": "yes",
    "BANTUAN": "help",
    "HELP": "help",
    "BERHENTI": "stop",
    "STOP": "stop",
    "MULAI": "start",
    "START": "start",
}

_DAYS = {
    "id": ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_MONTHS = {
    "id": ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}
TEXTS: Mapping[str, Mapping[str, str]] = {
    "id": {
        "help": (
            "Antrian BPJSTK. Balas dengan:\n"
            "STATUS - antrian Anda yang aktif\n"
            "BATAL <kode> - membatalkan antrian\n"
            "BANTUAN - daftar ini\n"
            "BERHENTI - tidak menerima pesan lagi\n"
            "MULAI - menerima pesan lagi"
        ),
        "none": "Tidak ada antrian aktif untuk nomor ini.",
        "status_head": "Antrian aktif Anda:",
        "line": "{number} BPJSTK {branch}, {date} {slot}, kode {code}",
        "pending": "menunggu kode verifikasi",
        "checked_in": "sudah check-in, {ahead} orang di depan Anda",
        "checked_in_now": "sudah check-in",
        "called": "sedang dipanggil",
        "waitlist_line": "Daftar tunggu BPJSTK {branch}, {date} {slot}, kode {code}",
        "any_time": "jam berapa saja",
        "offered": "ada tempat untuk Anda: terima lewat tautan di pesan kami",
        "confirm_leave": "Keluar dari {line}? Balas YA dalam {minutes} menit.",
        "left": "Anda keluar dari daftar tunggu, kode {code}.",
        "cancel_which": "Kirim BATAL diikuti kode antrian, mis. BATAL ABCD2345.",
        "unknown_code": "Kode itu tidak ditemukan di antrian aktif nomor ini.",
        "confirm": "Batalkan antrian {line}? Balas YA dalam {minutes} menit.",
        "nothing_asked": "Tidak ada pembatalan yang menunggu jawaban. Kirim BATAL <kode>.",
        "cancelled": "Antrian {number} kode {code} DIBATALKAN.",
        "already_cancelled": "Antrian {number} kode {code} sudah dibatalkan.",
        "too_late": "Antrian {number} tidak dapat dibatalkan lagi (sudah dimulai atau sudah check-in).",
        "not_now": "Pembatalan gagal. Silakan coba lagi, atau batalkan di antrian online.",
        "stopped": (
            "Anda tidak akan menerima pesan lagi dari Antrian BPJSTK. Kirim MULAI untuk menerima lagi."
        ),
        "started": "Pesan dari Antrian BPJSTK aktif lagi untuk nomor ini.",
    },
    "en": {
        "help": (
            "BPJSTK queue. Reply with:\n"
            "STATUS - your active bookings\n"
            "BATAL <code> - cancel a booking\n"
            "BANTUAN - this list\n"
            "BERHENTI - no more messages\n"
            "MULAI - messages again"
        ),
        "none": "This number has no active booking.",
        "status_head": "Your active bookings:",
        "line": "{number} BPJSTK {branch}, {date} {slot}, code {code}",
        "pending": "waiting for its verification code",
        "checked_in": "checked in, {ahead} ahead of you",
        "checked_in_now": "checked in",
        "called": "being called now",
        "waitlist_line": "Waiting list BPJSTK {branch}, {date} {slot}, code {code}",
        "any_time": "any time",
        "offered": "a place is offered to you: accept it by the link in our message",
        "confirm_leave": "Leave the {line}? Reply YA within {minutes} minutes.",
        "left": "You left the waiting list, code {code}.",
        "cancel_which": "Send BATAL and the booking code, e.g. BATAL ABCD2345.",
        "unknown_code": "That code is not among this number's active bookings.",
        "confirm": "Cancel booking {line}? Reply YA within {minutes} minutes.",
        "nothing_asked": "No cancellation is waiting for an answer. Send BATAL <code>.",
        "cancelled": "Booking {number} code {code} CANCELLED.",
        "already_cancelled": "Booking {number} code {code} was cancelled already.",
        "too_late": "Booking {number} can no longer be cancelled (it has started or is checked in).",
        "not_now": "The cancellation failed. Please try again, or cancel online.",
        "stopped": "You will get no more messages from the BPJSTK queue. Send MULAI to get them again.",
        "started": "Messages from the BPJSTK queue are on again for this number.",
    },
}

# Where a checked-in participant stands: (branch, queue number, now) -> people ahead, or None.
PlaceInLine = Callable[[str, str, dt.datetime], int | None]


class InboundReplies:
    """Answers messages participants send to the service's number.

    Args:
        reservations: the booking operations (look-ups, the cancel path, the phone caps).
        opt_outs: the phones that asked for no messages.
        place_in_line: how many wait before a checked-in participant (None: not in line).
        waitlist: where a waitlist entry leaves its waitlist (the service's).
    """

    def __init__(
        self, reservations: Reservations, opt_outs: OptOuts, place_in_line: PlaceInLine, waitlist: Waitlist
    ):
        self.reservations = reservations
        self.redis = reservations.redis
        self.opt_outs = opt_outs
        self.place_in_line = place_in_line
        self.waitlist = waitlist

    @staticmethod
    def help_text() -> str:
        """The list of words, in Indonesian: the answer to a message that could not be read."""
        return TEXTS["id"]["help"]

    def answer(self, sender: str, text: str, now: dt.datetime) -> str:
        """The reply to ``text`` from ``sender`` (``whatsapp:+62…`` or ``+62…``) at ``now``.

        Every text gets an answer: an unknown word, or a sender that is no Indonesian mobile
        number, gets the list of words.
        """
        phone = _phone_of(sender)
        words = text.split()
        command = WORDS.get(words[0].upper()) if words else None
        if phone is None:
            return TEXTS["id"]["help"]
        bookings = self.active_bookings(phone, now)
        language = max(bookings, key=lambda b: b.created_ms).language if bookings else "id"
        if command == "status":
            return self._status(bookings, language, now)
        if command == "cancel":
            return self._ask_to_cancel(phone, bookings, words[1:], language)
        if command == "yes":
            return self._cancel(phone, language, now)
        if command == "stop":
            self.opt_outs.stop(phone)
            return TEXTS[language]["stopped"]
        if command == "start":
            self.opt_outs.resume(phone)
            return TEXTS[language]["started"]
        return TEXTS[language]["help"]

    def active_bookings(self, phone: str, now: dt.datetime) -> list[Booking]:
        """``phone``'s bookings that still stand (held, booked, checked in or called, their day
        not over), soonest first: its cap's entries (also those under the previous
        ``NIK_HASH_KEY`` while it is replaced), each read and checked to be the phone's."""
        # One key a command: the digests' keys lie in different slots of a cluster.
        with self.redis.pipeline(transaction=False) as pipe:
            for key in self.reservations.phones.keys_of(phone):
                pipe.hgetall(key)
            entries = {code: entry for found in pipe.execute() for code, entry in found.items()}
        now_ms = int(now.timestamp() * 1000)
        found = []
        for code, entry in entries.items():
            ends, _, rest = entry.partition(" ")
            branch_id = rest.partition(" ")[0]
            if not ends.isdigit() or int(ends) <= now_ms:
                continue
            try:  # a waitlist entry too: it holds its NIK's date and counts against the phone
                booking = self.reservations.bookings.get(branch_id, code, entries=True)
            except NotFoundError:
                continue
            if booking.status in ACTIVE_STATUSES and booking.phone == phone and not booking.erased:
                found.append(booking)
        return sorted(found, key=lambda b: (b.date, b.slot_start, b.code))

    def _status(self, bookings: list[Booking], language: str, now: dt.datetime) -> str:
        texts = TEXTS[language]
        if not bookings:
            return texts["none"]
        lines = [texts["status_head"]]
        for booking in bookings:
            line = self._line(booking, language)
            if booking.status == "pending":
                line += f" ({texts['pending']})"
            elif booking.status == "offered":
                line += f" ({texts['offered']})"
            elif booking.status == "called":
                line += f" ({texts['called']})"
            elif booking.status == "checked_in":
                ahead = self.place_in_line(booking.branch_id, booking.queue_number, now)
                where = texts["checked_in_now"] if ahead is None else texts["checked_in"].format(ahead=ahead)
                line += f" ({where})"
            lines.append(f"- {line}")
        return "\n".join(lines)

    def _ask_to_cancel(self, phone: str, bookings: list[Booking], rest: list[str], language: str) -> str:
        texts = TEXTS[language]
        if not rest:
            return texts["cancel_which"]
        code = normalise_code("".join(rest))
        booking = next((b for b in bookings if b.code == code), None)
        if booking is None:
            return texts["unknown_code"]
        # On Redis's clock (PX), so the question's few minutes hold whatever the callers' clocks.
        self.redis.set(
            keys.phone_question(self.opt_outs.digest(phone)),
            f"{booking.branch_id} {booking.code}",
            px=QUESTION_SECONDS * 1000,
        )
        line = self._line(booking, language)
        question = texts["confirm_leave"] if _on_waitlist(booking) else texts["confirm"]
        return question.format(line=line, minutes=QUESTION_SECONDS // 60)

    def _cancel(self, phone: str, language: str, now: dt.datetime) -> str:
        texts = TEXTS[language]
        # Taken, not read: a YA sent twice cancels once, and a third finds nothing asked.
        asked = self.redis.getdel(keys.phone_question(self.opt_outs.digest(phone)))
        if asked is None:
            return texts["nothing_asked"]
        branch_id, _, code = asked.partition(" ")
        try:
            booking = self.reservations.bookings.get(branch_id, code, entries=True)
        except NotFoundError:
            return texts["unknown_code"]
        if booking.phone != phone or booking.erased:
            return texts["unknown_code"]
        language = booking.language
        texts = TEXTS[language]
        said = {"number": booking.queue_number, "code": booking.code}
        if _on_waitlist(booking):
            return self._leave(booking, texts, now)
        try:
            self.reservations.cancel_booking(booking, now, CANCELLED_BY)
        except CancelledError:
            return texts["already_cancelled"].format(**said)
        except TooLateError:
            return texts["too_late"].format(**said)
        except DomainError as error:
            log.warning("cancellation by reply of %s refused: %s", code, error.code)
            return texts["not_now"]
        return texts["cancelled"].format(**said)

    def _leave(self, entry: Booking, texts: Mapping[str, str], now: dt.datetime) -> str:
        """Take the waitlist entry ``entry`` off its waitlist, as its page's "leave" does."""
        try:
            self.waitlist.leave(entry.code, entry.nik, now)
        except DomainError as error:  # its offer ran out or was accepted meanwhile, a closure
            log.warning("leaving the waitlist by reply of %s refused: %s", entry.code, error.code)
            return texts["not_now"]
        return texts["left"].format(code=entry.code)

    def _line(self, booking: Booking, language: str) -> str:
        branch = catalog.get_branch(self.redis, booking.branch_id)
        day = booking.date
        date = f"{_DAYS[language][day.weekday()]}, {day.day} {_MONTHS[language][day.month - 1]} {day.year}"
        zone = schedules.timezone_label(branch.timezone)
        slot = f"{booking.slot_start:%H:%M}-{booking.slot_end:%H:%M} {zone}"
        if _on_waitlist(booking):
            # The slot by its start (an entry keeps no end until an offer names one), or none
            # yet for an entry that waits for any slot (read as midnight).
            named = booking.slot_start != dt.time(0)
            slot = f"{booking.slot_start:%H:%M} {zone}" if named else TEXTS[language]["any_time"]
            return TEXTS[language]["waitlist_line"].format(
                branch=branch.name, date=date, slot=slot, code=booking.code
            )
        return TEXTS[language]["line"].format(
            number=booking.queue_number, branch=branch.name, date=date, slot=slot, code=booking.code
        )


def _on_waitlist(booking: Booking) -> bool:
    """Whether ``booking`` is a waitlist entry still waiting, or holding an offer's place."""
    return booking.status in ("waiting", "offered")


def _phone_of(sender: str) -> str | None:
    """The sender's number in E.164 (``whatsapp:+62…`` or ``+62…``), or None if it is none."""
    number = sender.removeprefix("whatsapp:").strip()
    try:
        return check_phone(number)
    except ValueError:
        return None
