"""The catalog in the console (issue 22), as a browser without JavaScript uses it: a national
admin adds an area, a WITA branch and a service whose requirements are written as plain text,
a participant then books there through the pages; a branch retired and taken back; each
refusal beside its field, in Indonesian and English; CSRF; other roles 403. A session is
started as the sign-in starts it (sign-in itself is tested elsewhere)."""

from __future__ import annotations

import html
import re

import pytest

from queue_service.domain import audit, catalog, schedules
from queue_service.domain.accounts import BRANCH_ADMIN, COUNTER_STAFF, NATIONAL_ADMIN
from tests.web.pages.forms import form
from tests.web.pages.test_staff_cancel_pages import signed_in

HOME = "/admin/katalog"
REASONS = (
    "Klaim terlambat: Kronologi dari perusahaan; Surat pernyataan | Paling lambat 3 bulan\n"
    "Perusahaan tutup: Surat keterangan disnaker\n"
)


def text(response) -> str:
    return response.get_data(as_text=True)


def csrf(client, url: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', text(client.get(url))).group(1)


def post(client, url: str, data: dict, page: str | None = None):
    return client.post(url, data={"csrf_token": csrf(client, page or url), **data})


@pytest.fixture
def national(app, client):
    return signed_in(app, client, "admin", "nasional", NATIONAL_ADMIN)


def open_new_branch(national):
    """Add the area, the service and the WITA branch through the console's forms."""
    area = post(national, "/admin/katalog/wilayah", {"id": "kalimantan-timur", "name": "Kalimantan Timur"})
    assert area.status_code == 303 and area.headers["Location"] == f"{HOME}?disimpan=kalimantan-timur"
    service = post(
        national,
        "/admin/katalog/layanan",
        {
            "id": "pkp",
            "name": "Pengaduan Klaim Perusahaan",
            "prefix": "P",
            "documents": "KTP elektronik (asli)\n\n  Surat kuasa dari perusahaan  \n",
            "reasons": REASONS,
            "note": "Datang bersama bagian SDM.",
        },
    )
    assert service.status_code == 303, text(service)
    branch = national.post(
        "/admin/katalog/cabang",
        data={
            "csrf_token": csrf(national, "/admin/katalog/cabang"),
            "id": "samarinda-seberang",
            "name": "Samarinda Seberang",
            "address": "Jl. Bung Tomo No. 1, Samarinda Seberang",
            "area_id": "kalimantan-timur",
            "timezone": "Asia/Makassar",
            "services": ["pkp", "jht"],
        },
    )
    assert branch.status_code == 303, text(branch)


def test_the_national_home_links_the_catalog_which_lists_every_kind(national):
    assert f'href="{HOME}"' in text(national.get("/admin/"))
    page = text(national.get(HOME))
    assert "Wilayah" in page and "Layanan" in page and "Kantor cabang" in page
    assert 'href="/admin/katalog/cabang/jakarta-salemba"' in page and "Jakarta Salemba" in page
    assert 'href="/admin/katalog/layanan/jht"' in page and 'href="/admin/katalog/wilayah/banten"' in page


def test_a_national_admin_adds_an_area_a_wita_branch_and_a_service_then_a_participant_books_there(
    national, app, redis, tune_branch
):
    open_new_branch(national)

    service = catalog.get_service(redis, "pkp")
    assert service.requirements.documents == ["KTP elektronik (asli)", "Surat kuasa dari perusahaan"]
    assert [(r.id, r.name, r.documents, r.note) for r in service.requirements.reasons] == [
        (
            "klaim-terlambat",
            "Klaim terlambat",
            ["Kronologi dari perusahaan", "Surat pernyataan"],
            "Paling lambat 3 bulan",
        ),
        ("perusahaan-tutup", "Perusahaan tutup", ["Surat keterangan disnaker"], None),
    ]
    branch = catalog.get_branch(redis, "samarinda-seberang")
    assert (branch.timezone, branch.services, branch.retired) == ("Asia/Makassar", ["pkp", "jht"], False)
    assert schedules.load_settings(redis, "samarinda-seberang").online_booking is False
    assert [e.action for e in audit.read(redis)][:3] == ["branch_created", "service_created", "area_created"]

    # Its admins set its hours; then a participant books through the pages, from the area on.
    tune_branch(
        "samarinda-seberang",
        online_booking=True,
        service_hours={day: [["08:00", "12:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    )
    participant = app.test_client()
    assert 'href="/cabang/samarinda-seberang"' in text(participant.get("/wilayah/kalimantan-timur"))
    services_page = text(participant.get("/cabang/samarinda-seberang"))
    assert "Pengaduan Klaim Perusahaan" in services_page and "Surat kuasa dari perusahaan" in services_page
    assert "Klaim terlambat" in services_page and "Paling lambat 3 bulan" in services_page
    assert 'href="/cabang/samarinda-seberang/pkp/2026-11-24"' in text(
        participant.get("/cabang/samarinda-seberang/pkp")
    )
    assert "09:00" in text(participant.get("/cabang/samarinda-seberang/pkp/2026-11-24"))
    details = "/pesan?branch_id=samarinda-seberang&service_id=pkp&date=2026-11-24&slot=09:00"
    fields = form(text(participant.get(details)), "/pesan")
    booked = participant.post(
        "/pesan",
        data={
            **fields,
            "name": "Siti Aminah",
            "nik": "3171015201900001",
            "kpj": "12345678901",
            "phone": "081234567890",
            "captcha_answer": "12345",
            "action": "book",
        },
    )
    assert booked.status_code == 303 and booked.headers["Location"] == "/pesan/selesai"
    confirmation = text(participant.get("/pesan/selesai"))
    assert (
        "P-001" in confirmation and "WITA" in confirmation and "Surat kuasa dari perusahaan" in confirmation
    )


def test_a_service_s_form_shows_its_requirements_as_the_text_it_reads(national, redis):
    page = text(national.get("/admin/katalog/layanan/jht"))
    assert (
        "Mengundurkan diri: Surat keterangan berhenti bekerja (paklaring) dari perusahaan | Klaim dapat"
        in page
    )
    assert "KTP elektronik (asli)\nKartu peserta BPJS Ketenagakerjaan (KPJ)" in page
    assert "<code>jht</code>" in page and 'name="id"' not in page  # an id never changes

    # Saved as shown, nothing changes: the reasons keep their ids.
    jht = catalog.get_service(redis, "jht")
    values = {
        "name": jht.name,
        "prefix": jht.prefix,
        "documents": "\n".join(jht.requirements.documents),
        "reasons": re.search(r'<textarea id="f-reasons"[^>]*>([^<]*)</textarea>', page).group(1),
        "note": "",
    }
    values["reasons"] = html.unescape(values["reasons"])
    assert post(national, "/admin/katalog/layanan/jht", values).status_code == 303
    assert catalog.get_service(redis, "jht") == jht
    assert audit.read(redis, action="service_changed") == []


def test_refusals_are_beside_their_fields_in_indonesian_and_english(national, redis):
    refused = post(
        national,
        "/admin/katalog/cabang",
        {
            "id": "Samarinda Baru",
            "name": "",
            "address": "Jl. X",
            "area_id": "banten",
            "timezone": "Asia/Makassar",
        },
    )
    page = text(refused)
    assert refused.status_code == 422
    assert re.search(r'<p class="error" id="e-id">Kode: huruf kecil a-z', page)
    assert re.search(r'<p class="error" id="e-name">Wajib diisi', page)
    assert 'value="Samarinda Baru"' in page  # what was typed, kept

    taken = post(national, "/admin/katalog/layanan", {"id": "pkp", "name": "PKP", "prefix": "A"})
    assert '<p class="error" id="e-prefix">Huruf antrian ini sudah dipakai layanan lain.</p>' in text(taken)
    bad_reason = post(
        national,
        "/admin/katalog/layanan",
        {"id": "pkp", "name": "PKP", "prefix": "P", "reasons": "tanpa titik dua"},
    )
    assert bad_reason.status_code == 422
    assert '<p class="error" id="e-reasons">Tulis setiap alasan sebagai:' in text(bad_reason)
    assert catalog.list_services(redis)[-1].id != "pkp"

    national.set_cookie("lang", "en")
    english = post(
        national,
        "/admin/katalog/wilayah",
        {"id": "banten", "name": "Banten"},
        page="/admin/katalog/wilayah?lang=en",
    )
    assert '<p class="error" id="e-id">This id is taken.</p>' in text(english)


def test_a_branch_is_retired_and_taken_back(national, app, redis):
    page = text(national.get("/admin/katalog/cabang/bekasi"))
    assert "Pensiunkan kantor cabang" in page
    retired = post(
        national, "/admin/katalog/cabang/bekasi/status", {"retired": "1"}, page="/admin/katalog/cabang/bekasi"
    )
    assert retired.status_code == 303
    assert catalog.get_branch(redis, "bekasi").retired is True
    assert "Bekasi" not in text(app.test_client().get("/wilayah/jawa-barat"))
    assert "tidak lagi menerima pemesanan antrian" in text(app.test_client().get("/cabang/bekasi"))
    assert "Dipensiunkan" in text(national.get(HOME))

    back = post(
        national, "/admin/katalog/cabang/bekasi/status", {"retired": "0"}, page="/admin/katalog/cabang/bekasi"
    )
    assert back.status_code == 303 and catalog.get_branch(redis, "bekasi").retired is False
    assert [e.action for e in audit.read(redis)][:2] == ["branch_changed", "branch_changed"]


def test_a_time_zone_under_bookings_is_refused_saying_why(national, redis, book):
    book(branch_id="bekasi")
    bekasi = catalog.get_branch(redis, "bekasi")
    refused = post(
        national,
        "/admin/katalog/cabang/bekasi",
        {
            "name": bekasi.name,
            "address": bekasi.address,
            "area_id": bekasi.area_id,
            "timezone": "Asia/Jayapura",
            "services": bekasi.services,
        },
    )
    assert refused.status_code == 422
    assert (
        '<p class="error" id="e-timezone">Tidak dapat diubah selama masih ada antrian mulai hari ini.</p>'
        in text(refused)
    )
    assert catalog.get_branch(redis, "bekasi") == bekasi


def test_a_form_without_its_csrf_token_is_refused(national, redis):
    response = national.post("/admin/katalog/wilayah", data={"id": "x", "name": "X"})
    assert response.status_code == 400
    assert "x" not in {area.id for area in catalog.list_areas(redis)}


@pytest.mark.parametrize(
    ("role", "branches"), [(BRANCH_ADMIN, ("jakarta-salemba",)), (COUNTER_STAFF, ("jakarta-salemba",))]
)
def test_other_roles_may_not_see_or_change_the_catalog(app, client, role, branches):
    signed_in(app, client, "admin", "siti", role, *branches)
    assert client.get(HOME).status_code == 403
    assert client.get("/admin/katalog/cabang/jakarta-salemba").status_code == 403
    assert 'href="/admin/katalog"' not in text(client.get("/admin/"))


def test_an_unknown_kind_or_entry_is_404(national):
    assert national.get("/admin/katalog/kota").status_code == 404
    assert national.get("/admin/katalog/cabang/atlantis").status_code == 404
