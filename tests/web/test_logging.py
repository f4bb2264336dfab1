"""JSON log lines with the request id, personal data masked whoever logs it."""

import json
import logging

import pytest

from queue_service.web.logging import JsonFormatter, mask_personal_data


def test_long_digit_runs_are_masked_and_ids_are_not():
    assert (
        mask_personal_data("nik=3171011201900001&hp=%2B6281234567890")
        == "nik=3171********0001&hp=%2B628******7890"
    )
    assert mask_personal_data("to +6281234567890.") == "to +62812****7890."
    assert mask_personal_data("kpj 12345678901") == "kpj 1234***8901"
    request_id = "1c2a768321e140b0bd53404129462705"
    assert mask_personal_data(f"id {request_id} code 7K3QX9MZ2W") == f"id {request_id} code 7K3QX9MZ2W"


@pytest.mark.parametrize(
    "text, masked",
    [
        ("hp 0812-3456-7890", "hp 0812****7890"),
        ("hp 0812 3456 7890", "hp 0812****7890"),
        ("hp +62 812-3456-7890", "hp +62812****7890"),
        ("hp 021-1234-5678", "hp 0211***5678"),
        ("hp=0812+3456+7890", "hp=0812****7890"),
        ("hp=0812%203456%207890", "hp=0812****7890"),
        ("hp=%2B62%20812%203456%207890", "hp=%2B628******7890"),
        ("name=Budi%200812%203456%207890", "name=Budi%200812****7890"),
        ("nik 3171 0112 0190 0001", "nik 3171********0001"),
        ("nik 3171-0112-0190-0001", "nik 3171********0001"),
        ("on 2026-11-22 0812 3456 7890", "on 2026-11-22 0812****7890"),
        ("hp (021) 1234-5678", "hp (0211***5678"),
        ("hp=%28021%29+1234-5678", "hp=%280211***5678"),
        ("hp 0812 - 3456 - 7890", "hp 0812****7890"),
        ("hp 0812\xa03456\xa07890", "hp 0812****7890"),
        ("hp 0812\t3456  7890", "hp 0812****7890"),
        ("nik=%223171011201900001%22", "nik=%223171********0001%22"),
        ("q=%7B%22nik%22%3A%223171011201900001%22%7D", "q=%7B%22nik%22%3A%223171********0001%22%7D"),
        ("hp 0812-34-56 7890", "hp 0812****7890"),
        ("nik 3171-01-12-0190-0001", "nik 3171********0001"),
        ("nik 1971-01-12-0190-0001", "nik 1971********0001"),
        ("hp:081234567890", "hp:0812****7890"),
    ],
)
def test_numbers_typed_in_groups_are_masked_too(text, masked):
    assert mask_personal_data(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "at 2026-11-22 10:00:00",
        "date=2026-11-22&slot=08:00",
        "slots 08:00-09:00 and 13:00-14:00",
        "from 127.0.0.1:8000",
        "took 1008.9 ms",
        "queue A-001 at counter 12",
        "id 1c2a768321e140b0bd53404129462705 code 7K3QX-9MZ2W",
        "at 2026-11-22 10:00:00 2026-11-22 11:00:00",
        "slot 08:00 2026-11-23 09:00",
        "size 10 20 30 40 50",
        "from 192.168.100.200 on 2026-11-22",
    ],
)
def test_dates_times_addresses_and_codes_are_left_as_they_are(text):
    assert mask_personal_data(text) == text


def test_a_line_in_a_request_carries_its_id_and_no_nik(app):
    record = logging.LogRecord(
        "antrian", logging.WARNING, __file__, 1, "refused %s", ("3171011201900001",), None
    )
    with app.test_request_context(headers={"X-Request-ID": "req-42"}):
        app.preprocess_request()
        line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "req-42"
    assert line["message"] == "refused 3171********0001"
    assert line["level"] == "warning" and line["logger"] == "antrian"
