"""JSON log lines with the request id, personal data masked whoever logs it."""

import json
import logging

from queue_service.web.logging import JsonFormatter, mask_personal_data


def test_long_digit_runs_are_masked_and_ids_are_not():
    assert mask_personal_data("nik=3171011201900001&hp=%2B6281234567890") == \
        "nik=3171********0001&hp=%2B628******7890"
    assert mask_personal_data("to +6281234567890.") == "to +62812****7890."
    assert mask_personal_data("kpj 12345678901") == "kpj 1234***8901"
    request_id = "1c2a768321e140b0bd53404129462705"
    assert mask_personal_data(f"id {request_id} code 7K3QX9MZ2W") == \
        f"id {request_id} code 7K3QX9MZ2W"


def test_a_line_in_a_request_carries_its_id_and_no_nik(app):
    record = logging.LogRecord("antrian", logging.WARNING, __file__, 1,
                               "refused %s", ("3171011201900001",), None)
    with app.test_request_context(headers={"X-Request-ID": "req-42"}):
        app.preprocess_request()
        line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "req-42"
    assert line["message"] == "refused 3171********0001"
    assert line["level"] == "warning" and line["logger"] == "antrian"
