"""English by switch and cookie, the catalogs' completeness, static files and page sizes."""

import gzip
import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from tests.web.pages.forms import DETAILS

ROOT = Path(__file__).resolve().parents[3]
CATALOG = ROOT / "queue_service/web/translations/en/LC_MESSAGES/messages.po"
# The budget for the first page on a cheap phone: HTML + CSS + JS, compressed.
PAGE_BUDGET_BYTES = 50 * 1024


def text(response) -> str:
    return response.get_data(as_text=True)


def test_english_by_the_switch_stays_by_cookie(client):
    first = client.get("/cabang/jakarta-salemba/jht?lang=en")
    assert "lang=en" in first.headers["Set-Cookie"]
    html = text(first)
    assert '<html lang="en">' in html and "Choose a date" in html
    assert "Tuesday, 24 November 2026" in html and "Old-age savings (JHT) claim" in html
    later = text(client.get("/cabang/jakarta-salemba/jht/2026-11-24"))
    assert (
        "Choose an arrival time" in later and 'href="/cabang/jakarta-salemba/jht/2026-11-24?lang=id"' in later
    )
    assert "Pilih" not in later


def test_errors_beside_fields_are_english_too(client, book_page):
    client.get("/?lang=en")
    html = text(book_page(nik="1234"))
    assert "NIK must be 16 digits." in html and "Some fields are not valid." in html


def test_back_to_indonesian(client):
    client.get("/?lang=en")
    assert "Pilih wilayah" in text(client.get("/?lang=id"))
    assert "Pilih wilayah" in text(client.get("/"))


def test_every_page_text_has_an_english_translation(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "N_",
            "-k",
            "_",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as source:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(source) if m.id}
    with CATALOG.open("rb") as source:
        catalog = read_po(source)
    translated = {
        m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id and m.string and not m.fuzzy
    }
    assert wanted - translated == set()


def test_static_files_are_fingerprinted_compressed_and_cached_forever(client):
    html = text(client.get("/"))
    [css] = re.findall(r'href="(/static/[0-9a-f]{12}/app\.css)"', html)
    response = client.get(css, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert b"box-sizing" in gzip.decompress(response.data)
    assert client.get(css.replace("/static/", "/static/0").replace("/app", "0/app")).status_code == 404
    assert client.get("/static/000000000000/app.css").status_code == 404


def transferred(client, path: str) -> int:
    """Bytes on the wire for ``path`` and the CSS, JS and icon it loads, as a gzip-taking browser
    gets them."""
    headers = {"Accept-Encoding": "gzip"}
    page = client.get(path, headers=headers)
    assert page.status_code == 200 and page.headers["Content-Encoding"] == "gzip"
    html = gzip.decompress(page.data).decode()
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    assert len(assets) == 3  # the CSS, the script and the icon
    return len(page.data) + sum(len(client.get(a, headers=headers).data) for a in assets)


def test_the_home_and_booking_pages_stay_under_50_kb_transferred(client, capsys):
    sizes = {path: transferred(client, path) for path in ("/", "/cabang/jakarta-salemba/jht", DETAILS)}
    with capsys.disabled():
        print(f"\n  transferred (gzip, HTML+CSS+JS): {sizes}")
    assert all(size < PAGE_BUDGET_BYTES for size in sizes.values()), sizes


def test_the_switch_keeps_the_chosen_place_and_never_repeats_a_form(client, book_page):
    html = text(client.get(DETAILS))
    assert (
        'href="/pesan?branch_id=jakarta-salemba&amp;service_id=jht&amp;date=2026-11-24'
        '&amp;slot=09:00&amp;lang=en"' in html
    )
    refused = text(book_page(nik="1234"))  # the answer to a POST: back to the same place
    assert 'slot=09:00&amp;lang=en"' in refused and "nik=" not in refused.split("</header>")[0]
    looked_up = text(client.post("/kelola", data={}))
    assert 'href="/kelola?lang=en"' in looked_up


def test_pages_load_nothing_from_another_host_and_cannot_be_framed(client):
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Content-Security-Policy" not in client.get("/api/v1/services").headers
