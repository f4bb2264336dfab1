"""A participant on a phone confirms the booking with the code the SMS brought
(``PHONE_VERIFICATION=1``): headless Chromium at 360×740, the real server, and a real worker
that writes the SMS to the file outbox."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ROOT, assert_accessible, screenshot
from tests.e2e.test_participant_browser import choose_place, fill_details
from tests.factories import make_nik
from tests.live import serving, with_the_real_clock


@pytest.fixture
def live_server(redis, redis_server, tmp_path):
    with serving(redis_server.url, tmp_path, PHONE_VERIFICATION="1") as base:
        yield base


@pytest.fixture
def one_time_code(redis_server, tmp_path):
    """``one_time_code()``: run ``queue-service worker --burst`` as the server's worker would
    (same data store, secret and file outbox), then read the code of the last SMS it wrote."""
    outbox = tmp_path / "outbox.jsonl"

    def read() -> str:
        env = {
            **with_the_real_clock(dict(os.environ)),
            "REDIS_URL": redis_server.url,
            "SECRET_KEY": "live-test",
            "VAR_DIR": str(tmp_path / "var"),
            "SMS_BACKEND": "file",
            "SMS_OUTBOX": str(outbox),
            "PHONE_VERIFICATION": "1",
        }
        done = subprocess.run(
            [sys.executable, "-m", "queue_service.cli", "worker", "--burst"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        sent = [json.loads(line) for line in Path(outbox).read_text(encoding="utf-8").splitlines()]
        codes = [sms for sms in sent if sms["event"].startswith("otp")]
        assert codes, sent
        assert codes[-1]["to"] == "+6281234567890"
        return re.match(r"^(\d{6}) ", codes[-1]["body"]).group(1)

    return read


def book(page: Page) -> None:
    choose_place(page)
    fill_details(page, make_nik())
    page.get_by_role("button", name="Ambil antrian").click()
    expect(page.get_by_role("heading", name="Verifikasi nomor HP")).to_be_visible()


def test_the_code_from_the_sms_confirms_the_booking(open_page, one_time_code):
    page = open_page("/")
    book(page)
    expect(page.get_by_text("Kami mengirim kode 6 angka ke 0812****7890.")).to_be_visible()
    expect(page.locator(".deadline")).to_contain_text(re.compile(r"Kode berlaku sampai \d\d:\d\d WIB"))
    # The script keeps the time left counting: m:ss.
    expect(page.locator("[data-clock]")).to_have_text(re.compile(r"^(9|10):\d\d$"))
    expect(page.locator("#resend-when")).to_contain_text(re.compile(r"Kirim ulang kode bisa dalam \d+ detik"))
    field = page.get_by_label("Kode verifikasi")
    expect(field).to_have_attribute("autocomplete", "one-time-code")
    expect(field).to_have_attribute("inputmode", "numeric")
    expect(page.locator(".ticket")).to_have_count(0)
    assert_accessible(page)
    screenshot(page, "20-verify-code")

    code = one_time_code()
    field.fill("000000" if code != "000000" else "111111")
    page.get_by_role("button", name="Konfirmasi antrian").click()
    expect(page.locator("#e-otp")).to_have_text("Kode salah. Sisa percobaan: 2.")
    expect(page.get_by_label("Kode verifikasi")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)
    screenshot(page, "21-verify-wrong-code")

    page.get_by_label("Kode verifikasi").fill(code)
    page.get_by_role("button", name="Konfirmasi antrian").click()
    expect(page.get_by_role("heading", name="Antrian berhasil dibuat")).to_be_visible()
    expect(page.locator(".number")).to_have_text(re.compile(r"^A-\d{3}$"))
    expect(page.locator(".qr svg")).to_be_visible()
    assert not [url for url in open_page.urls if code in url]
    assert_accessible(page)
    screenshot(page, "22-verified-confirmation")


def test_three_wrong_codes_without_javascript_release_the_place(open_page, one_time_code):
    page = open_page("/", javascript=False)
    book(page)
    code = one_time_code()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(3):
        page.get_by_label("Kode verifikasi").fill(wrong)
        page.get_by_role("button", name="Konfirmasi antrian").click()
        page.wait_for_load_state()
    expect(page.get_by_role("heading", name="Tempat antrian dilepas")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Kode verifikasi salah 3 kali")
    # (axe needs JavaScript: page.evaluate would wait for ever in this page.)
    screenshot(page, "23-verify-released")
    page.get_by_role("link", name="Pilih tanggal lagi").click()
    expect(page).to_have_url(re.compile(r"/cabang/jakarta-salemba/jht$"))
