"""The SMS texts: Bahasa Indonesia, all the facts, one GSM-7 segment."""

from __future__ import annotations

import datetime as dt

import pytest

from queue_service.domain import demo
from queue_service.domain.reservations import Booking
from queue_service.notifications import texts

LONGEST = max(demo.BRANCHES, key=lambda branch: len(branch.name))


def a_booking(day: dt.date, queue_number: str = "A-1234") -> Booking:
    return Booking(
        code="7K3QX9MZ2W",
        queue_number=queue_number,
        status="booked",
        branch_id=LONGEST.id,
        service_id="jht",
        date=day,
        slot_start=dt.time(13, 30),
        slot_end=dt.time(14, 0),
        name="Budi Santoso",
        nik="3171011201900001",
        kpj="12345678901",
        phone="+6281234567890",
        email=None,
        created_ms=0,
        # 09:25 WIB on 2026-11-23: a hold's deadline, which only the one-time code says.
        verify_by_ms=int(dt.datetime(2026, 11, 23, 2, 25, tzinfo=dt.UTC).timestamp() * 1000),
    )


ONE_TIME_CODE = "482913"


def test_indonesian_dates():
    assert texts.indonesian_date(dt.date(2026, 11, 24)) == "Selasa, 24 Nov 2026"
    assert texts.indonesian_date(dt.date(2027, 8, 17)) == "Selasa, 17 Agu 2027"
    assert texts.indonesian_date(dt.date(2026, 12, 27)) == "Minggu, 27 Des 2026"


@pytest.mark.parametrize("event", texts.EVENTS)
def test_one_segment_even_for_the_longest_branch_name_on_every_weekday(event):
    assert LONGEST.name == "Jakarta Menara Jamsostek"
    for offset in range(7):
        day = dt.date(2026, 11, 23) + dt.timedelta(days=offset)
        text = texts.compose(event, a_booking(day), LONGEST, one_time_code=ONE_TIME_CODE)
        assert texts.gsm7_length(text) is not None, text  # GSM-7 only, no UCS-2
        assert texts.gsm7_length(text) <= texts.SEGMENT_LENGTH, (len(text), text)


@pytest.mark.parametrize("branch", demo.BRANCHES, ids=lambda branch: branch.id)
def test_every_demo_branch_fits(branch):
    for event in texts.EVENTS:
        text = texts.compose(event, a_booking(dt.date(2026, 11, 24)), branch, one_time_code=ONE_TIME_CODE)
        assert texts.gsm7_length(text) <= texts.SEGMENT_LENGTH


def test_the_call_ahead_names_the_number_and_the_branch_and_gives_no_code():
    text = texts.compose("call_ahead", a_booking(dt.date(2026, 11, 24)), LONGEST)
    assert "A-1234" in text and "Jakarta Menara Jamsostek" in text
    assert "giliran Anda sebentar lagi" in text and "7K3QX9MZ2W" not in text


@pytest.mark.parametrize("event", texts.ONE_TIME_CODE_EVENTS)
def test_a_one_time_code_says_itself_first_until_when_and_not_to_pass_it_on(event):
    text = texts.compose(event, a_booking(dt.date(2026, 11, 24)), LONGEST, one_time_code=ONE_TIME_CODE)
    assert text.startswith(ONE_TIME_CODE)
    for part in ("Jakarta Menara Jamsostek", "Selasa, 24 Nov 2026", "s.d. 09:25 WIB", "JANGAN berikan"):
        assert part in text
    # The booking's code is not in it: the hold is not a booking until the code comes back.
    assert "7K3QX9MZ2W" not in text


@pytest.mark.parametrize(
    "event",
    [e for e in texts.EVENTS if e not in ("call_ahead", "offer") and e not in texts.ONE_TIME_CODE_EVENTS],
)
def test_the_facts_are_all_there(event):
    text = texts.compose(event, a_booking(dt.date(2026, 11, 24)), LONGEST)
    for part in (
        "A-1234",
        "Jakarta Menara Jamsostek",
        "Selasa, 24 Nov 2026",
        "13:30-14:00 WIB",
        "7K3QX9MZ2W",
    ):
        assert part in text


def test_a_waitlist_offer_says_the_place_until_when_and_where_to_accept_it():
    # No queue number yet: one is issued when the offer is accepted.
    text = texts.compose(
        "offer", a_booking(dt.date(2026, 11, 24)), LONGEST, manage_url="https://a.id/daftar-tunggu/7K3QX9MZ2W"
    )
    for part in (
        "Jakarta Menara Jamsostek",
        "Selasa, 24 Nov 2026",
        "13:30-14:00 WIB",
        "s.d. 09:25",
        "https://a.id/daftar-tunggu/7K3QX9MZ2W",
    ):
        assert part in text
    assert "7K3QX9MZ2W" in texts.compose("offer", a_booking(dt.date(2026, 11, 24)), LONGEST)


@pytest.mark.parametrize(
    ("branch_id", "label"), [("jakarta-salemba", "WIB"), ("makassar", "WITA"), ("jayapura", "WIT")]
)
def test_the_slot_carries_its_time_zone(branch_id, label):
    branch = next(branch for branch in demo.BRANCHES if branch.id == branch_id)
    assert f"13:30-14:00 {label}." in texts.compose("booked", a_booking(dt.date(2026, 11, 24)), branch)


def test_gsm7_length_counts_extension_characters_twice_and_refuses_others():
    assert texts.gsm7_length("a[b]") == 6
    assert texts.gsm7_length("Rp 10.000 €") == 12
    assert texts.gsm7_length("antrian ✓") is None


def test_the_confirmation_carries_the_short_link_where_one_segment_holds_it():
    booking = a_booking(dt.date(2026, 11, 24))
    short = next(branch for branch in demo.BRANCHES if branch.id == "jakarta-salemba")
    url = f"https://antrian.example.id/k/{booking.code}"
    text = texts.compose("booked", booking, short, manage_url=url)
    assert text.endswith(f"Ubah/batal: {url}") and texts.gsm7_length(text) <= 160
    # Too long with the link: the advice stays and the text keeps to one segment.
    long_url = f"https://antrian-online.bpjsketenagakerjaan.go.id/kelola/k/{booking.code}"
    fallback = texts.compose("booked", booking, LONGEST, manage_url=long_url)
    assert long_url not in fallback and "Bawa KTP" in fallback
