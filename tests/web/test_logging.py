"""JSON log lines with the request id, personal data masked whoever logs it."""

import json
import logging
import os
import re
import subprocess
import sys

import pytest

from config import load_settings
from queue_service.logging_setup import JsonFormatter, TextFormatter, mask_personal_data
from tests.factories import DATA_KEYS
from tests.live import with_the_real_clock


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
        ("nik 3171_0112_0190_0001", "nik 3171********0001"),
        ("nik 3171/0112/0190/0001", "nik 3171********0001"),
        ("nik=3171%2F0112%2F0190%2F0001", "nik=3171********0001"),
        ("nik 3171.0112.0190.0001", "nik 3171********0001"),
        ("hp 0812.3456.7890", "hp 0812****7890"),
        ("nik 317101.120190.0001", "nik 3171********0001"),
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
        "from 10.20.30.40:8000 and 172.16.254.1",
        "version 2.10.1 of rq",
        "path /api/v1/bookings/7K3QX9MZ2W/verify",
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


def test_a_nik_sent_as_the_request_id_is_masked(app):
    record = logging.LogRecord("antrian", logging.WARNING, __file__, 1, "refused", (), None)
    with app.test_request_context(headers={"X-Request-ID": "nik-3171011201900001"}):
        app.preprocess_request()
        json_line = json.loads(JsonFormatter().format(record))
        text_line = TextFormatter().format(record)
    assert json_line["request_id"] == "nik-3171********0001"
    assert "3171011201900001" not in text_line and "nik-3171********0001" in text_line


def _record(message: str, *args, exc_info=None, **extra) -> logging.LogRecord:
    record = logging.LogRecord("antrian", logging.WARNING, __file__, 1, message, args, exc_info)
    record.__dict__.update(extra)
    return record


def test_a_text_line_is_time_level_logger_message_then_the_fields_masked(app):
    record = _record("refused %s", "3171011201900001", path="/x", query="hp=%2B6281234567890")
    with app.test_request_context(headers={"X-Request-ID": "req-42"}):
        app.preprocess_request()
        line = TextFormatter().format(record)

    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} WARNING antrian: refused 3171\*{8}0001 "
        r"request_id=req-42 path=/x query=hp=%2B628\*{6}7890",
        line,
    ), line


@pytest.mark.parametrize("formatter", [JsonFormatter(), TextFormatter()], ids=["json", "text"])
def test_both_formats_mask_the_message_the_fields_and_the_traceback(formatter):
    try:
        raise ValueError("no booking for 3171011201900001")
    except ValueError:
        exc_info = sys.exc_info()
    record = _record("sms to %s", "+6281234567890", exc_info=exc_info, name_typed="Budi 0812 3456 7890")

    line = formatter.format(record)

    for raw in ("3171011201900001", "6281234567890", "0812 3456 7890", "081234567890"):
        assert raw not in line
    for masked in ("+62812****7890", "3171********0001", "0812****7890"):
        assert masked in line


def test_a_text_line_is_one_line_whatever_the_message_holds():
    line = TextFormatter().format(_record("first\nforged 2026-01-01 ERROR line", detail="a\r\nb"))

    assert "\n" not in line and "\r" not in line
    assert line.endswith("first\\nforged 2026-01-01 ERROR line detail=a\\r\\nb")


@pytest.mark.parametrize(
    ("environ", "log_format"),
    [
        ({}, "text"),
        ({"APP_ENV": "development"}, "text"),
        ({"APP_ENV": "production", "SECRET_KEY": "s" * 32, "DATA_KEYS": DATA_KEYS}, "json"),
        (
            {"APP_ENV": "production", "SECRET_KEY": "s" * 32, "DATA_KEYS": DATA_KEYS, "LOG_FORMAT": "text"},
            "text",
        ),
        ({"LOG_FORMAT": "json"}, "json"),
        ({"LOG_FORMAT": " "}, "text"),
    ],
)
def test_log_format_is_text_in_development_and_json_in_production_unless_set(environ, log_format):
    assert load_settings(environ)["LOG_FORMAT"] == log_format


def test_an_unknown_log_format_is_refused_by_name():
    with pytest.raises(ValueError, match="LOG_FORMAT must be json or text, not 'yaml'"):
        load_settings({"LOG_FORMAT": "yaml"})


def _worker_log(redis_server, tmp_path, **env) -> str:
    """What ``queue-service worker --burst`` writes on standard error, after ``seed-demo``."""
    # The log's lines are the subject, not dates: the real clock (see with_the_real_clock).
    environ = {
        **with_the_real_clock(dict(os.environ)),
        "REDIS_URL": redis_server.url,
        "VAR_DIR": str(tmp_path / "var"),
        "SECRET_KEY": "test-secret-of-the-suite",
        "SMS_BACKEND": "file",
        "SMS_OUTBOX": str(tmp_path / "outbox.jsonl"),
        # Every branch's eve has come at any hour: the start walks all 42 branches.
        "SMS_REMINDER_TIME": "00:00",
        **env,
    }
    for name in ("APP_ENV", "LOG_FORMAT"):
        if name not in env:
            environ.pop(name, None)
    command = [sys.executable, "-m", "queue_service.cli"]
    subprocess.run([*command, "seed-demo"], env=environ, check=True, capture_output=True, timeout=60)
    done = subprocess.run(
        [*command, "worker", "--burst"], env=environ, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_a_developer_s_worker_writes_text_lines_and_says_nothing_per_branch(redis, redis_server, tmp_path):
    lines = _worker_log(redis_server, tmp_path).splitlines()

    assert lines, "the worker said nothing at all"
    for line in lines:
        assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [A-Z]+ +[\w.]+: ", line), line
    # No booking: nothing planned, so not a line about reminders, let alone one per branch.
    assert [line for line in lines if "reminders" in line] == []


def test_production_s_worker_writes_json_lines(redis, redis_server, tmp_path):
    lines = _worker_log(redis_server, tmp_path, APP_ENV="production", SECRET_KEY="s" * 32).splitlines()

    assert lines
    assert {"time", "level", "logger", "message"} <= set(json.loads(lines[0]))
    assert all(isinstance(json.loads(line), dict) for line in lines)
