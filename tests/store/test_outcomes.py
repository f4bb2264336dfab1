"""Reading the scripts' flat answers into named results."""

from queue_service.store.outcomes import (
    BookingOutcome,
    ClaimOutcome,
    NoShowsOutcome,
    QueueStepOutcome,
    SmsAttemptOutcome,
)


def test_each_verdict_names_the_values_it_carries():
    booked = BookingOutcome.read(["ok", "A-007", "1764900000000"])
    assert (booked.ok, booked.queue_number, booked.created_ms) == (True, "A-007", "1764900000000")
    gone = BookingOutcome.read(["status", "checked_in"])
    assert (gone.ok, gone.current_status, gone.queue_number) == (False, "checked_in", "")
    assert BookingOutcome.read(["slot_full"]).verdict == "slot_full"
    called = QueueStepOutcome.read(["repeat", '{"queue_number": "A-001"}'])
    assert called.done and called.answer == {"queue_number": "A-001"}
    changed = QueueStepOutcome.read(["changed", "B-002", "7K3QX9MZ2W"])
    assert (changed.done, changed.candidate, changed.code) == (False, "B-002", "7K3QX9MZ2W")
    assert NoShowsOutcome.read(["changed", "3"]).marked == 3


def test_book_s_refused_claim_is_read_as_the_claim_script_says_it():
    refused = BookingOutcome.read(["claim", "held", "7K3QX9MZ2W", "jakarta-salemba", "1764900000000"])
    assert refused.verdict == "claim"
    assert refused.claim == ClaimOutcome("held", "", "7K3QX9MZ2W", "jakarta-salemba", "1764900000000")
    assert BookingOutcome.read(["claim", "busy"]).claim.verdict == "busy"


def test_an_sms_attempt_names_its_text_and_when_the_first_attempt_began():
    check = SmsAttemptOutcome.read(["check", "Antrian A-007", "1764900000000"])
    assert (check.verdict, check.body, check.first_attempt_ms) == ("check", "Antrian A-007", 1764900000000)
    assert SmsAttemptOutcome.read(["settled", "sent"]).state == "sent"
    assert SmsAttemptOutcome.read(["busy"]).body == ""
