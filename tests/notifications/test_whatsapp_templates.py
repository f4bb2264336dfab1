"""The values of each WhatsApp template's placeholders (README "WhatsApp"): one kind per
event, none empty (Twilio refuses an empty value), the facts its SMS says."""

from __future__ import annotations

import datetime as dt

import pytest

from queue_service.notifications import texts
from tests.notifications.test_sms_texts import LONGEST, ONE_TIME_CODE, a_booking

TUESDAY = dt.date(2026, 11, 24)


def test_every_event_has_a_kind_and_the_codes_sent_again_share_the_first_ones():
    assert {texts.template_kind(event) for event in texts.EVENTS} == set(texts.TEMPLATE_KINDS)
    assert {texts.template_kind(event) for event in texts.ONE_TIME_CODE_EVENTS} == {"otp"}


@pytest.mark.parametrize("event", texts.EVENTS)
def test_no_placeholder_is_left_empty_even_without_links_or_a_note(event):
    values = texts.template_variables(event, a_booking(TUESDAY), LONGEST, one_time_code=ONE_TIME_CODE)
    assert list(values) == [str(n) for n in range(1, len(values) + 1)]
    assert all(isinstance(value, str) and value.strip() for value in values.values()), values
    assert (
        values["1" if event not in texts.ONE_TIME_CODE_EVENTS else "2"] == "BPJSTK Jakarta Menara Jamsostek"
    )


def test_the_values_of_a_code_and_of_a_confirmation():
    booking = a_booking(TUESDAY)
    assert texts.template_variables("otp3", booking, LONGEST, one_time_code=ONE_TIME_CODE) == {
        "1": ONE_TIME_CODE,
        "2": "BPJSTK Jakarta Menara Jamsostek",
        "3": "Selasa, 24 Nov 2026",
        "4": "09:25 WIB",
    }
    assert texts.template_variables("booked", booking, LONGEST, manage_url="https://a.id/k/7K3QX9MZ2W") == {
        "1": "BPJSTK Jakarta Menara Jamsostek",
        "2": "A-1234",
        "3": "Selasa, 24 Nov 2026 13:30-14:00 WIB",
        "4": "7K3QX9MZ2W",
        "5": "https://a.id/k/7K3QX9MZ2W",
    }
    closed = texts.template_variables(
        "closed", booking, LONGEST, note="  Banjir. ", book_again_url="https://a.id/c"
    )
    assert (closed["2"], closed["6"]) == ("Banjir", "https://a.id/c")
