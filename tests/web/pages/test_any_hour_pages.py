"""The participant's pages at four hard moments of the branch's local day in WIB, WITA and
WIT (the injected clock; see tests/domain/test_any_hour.py for the expectations): the
dates page, the slots page and the reschedule form offer the same days and slots, and the
reschedule form never offers the booking's own slot."""

import datetime as dt
import re

import pytest

from tests.domain.test_any_hour import (
    ALL_SLOTS,
    MOMENTS,
    MONDAY,
    OPEN_TODAY,
    TUESDAY,
    branch_id,  # noqa: F401 (a fixture: the branch, tuned)
    standing_at,
)
from tests.factories import booking_request
from tests.web.pages.forms import choices, form


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def offered_days(client, branch: str) -> list[str]:
    """The dates the booking pages link to, in order."""
    html = text(client.get(f"/cabang/{branch}/jht"))
    return re.findall(rf'href="/cabang/{branch}/jht/(\d{{4}}-\d{{2}}-\d{{2}})"', html)


def reschedule_form(client, booking, **chosen) -> str:
    fields = form(text(client.get("/kelola")), "/kelola")
    page = text(client.post("/kelola", data={**fields, "code": booking.code, "nik": booking.nik}))
    return text(client.post("/kelola/ubah", data={**form(page, "/kelola/ubah"), **chosen}))


@pytest.mark.parametrize("moment", MOMENTS)
def test_the_dates_page_offers_today_only_while_a_slot_takes_a_booking(client, branch_id, clock, moment):  # noqa: F811
    clock.set(standing_at(branch_id, moment))
    days = offered_days(client, branch_id)
    assert (MONDAY.isoformat() in days) == bool(OPEN_TODAY[moment])
    assert days[: 1 + bool(OPEN_TODAY[moment])][-1] == TUESDAY.isoformat()
    slots, closed = choices(text(client.get(f"/cabang/{branch_id}/jht/{MONDAY}")), "slot")
    assert slots == OPEN_TODAY[moment]
    assert sorted(slots + closed) == ALL_SLOTS


@pytest.mark.parametrize("moment", MOMENTS)
def test_the_reschedule_form_offers_the_booking_pages_days_and_never_the_own_slot(
    client,
    reservations,
    branch_id,  # noqa: F811
    clock,
    moment,
):
    clock.set(standing_at(branch_id, moment))
    booking = reservations.reserve(booking_request(branch_id=branch_id, date=TUESDAY), clock())
    dates, _ = choices(reschedule_form(client, booking), "date")
    assert dates == offered_days(client, branch_id)
    html = reschedule_form(client, booking, date=TUESDAY.isoformat())
    slots, disabled = choices(html, "slot")
    assert "09:00" in disabled and "09:00" not in slots
    assert slots == [s for s in ALL_SLOTS if s != "09:00"]
    own = re.search(r'value="09:00"[^>]*>\s*<span>[^<]*</span>\s*<span class="left">([^<]*)<', html)
    assert own and own.group(1) == "Jadwal Anda sekarang"
    if OPEN_TODAY[moment]:
        today, _ = choices(reschedule_form(client, booking, date=MONDAY.isoformat()), "slot")
        assert today == OPEN_TODAY[moment]


def test_a_booked_day_whose_only_open_slot_is_the_own_is_not_offered(
    client,
    reservations,
    branch_id,  # noqa: F811
    clock,
):
    clock.set(standing_at(branch_id, (13, 29)))  # only 14:30 still takes a booking today
    booking = reservations.reserve(
        booking_request(branch_id=branch_id, date=MONDAY, slot=dt.time(14, 30)), clock()
    )
    html = reschedule_form(client, booking)
    dates, disabled = choices(html, "date")
    assert MONDAY.isoformat() in disabled and TUESDAY.isoformat() in dates
    assert MONDAY.isoformat() in offered_days(client, branch_id)
