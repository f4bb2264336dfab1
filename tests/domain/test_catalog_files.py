"""Catalog files, read and imported in-process: a dry run changes nothing, an export imported
again changes nothing, one wrong row refuses the whole file naming its row and field, CSV
branches, the demo's seed as an import of its shipped file, and the page catalog's extractor."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from queue_service.domain import audit, catalog, catalog_files, demo, schedules
from queue_service.domain.audit import Actor
from queue_service.domain.catalog_files import CatalogFileError, Problem
from queue_service.store import keys
from tests.factories import booking_request

SYSTEM = Actor("cli", "operator", "cli")
CATALOG = Path(__file__).parents[2] / "queue_service/web/translations/en/LC_MESSAGES/messages.po"
NEW = {
    "areas": [{"id": "papua-selatan", "name": "Papua Selatan"}],
    "services": [{"id": "pkp", "name": "Pengaduan", "prefix": "P"}],
    "branches": [
        {
            "id": "tanah-merah",
            "name": "Tanah Merah",
            "area_id": "papua-selatan",
            "address": "Jl. Trikora No. 2, Tanah Merah",
            "timezone": "Asia/Jayapura",
            "services": ["pkp", "info"],
        },
        {
            "id": "bekasi",
            "name": "Bekasi",
            "area_id": "jawa-barat",
            "address": "Jl. Ahmad Yani No. 2, Bekasi",
            "timezone": "Asia/Jakarta",
            "services": ["jht", "info"],
            "retired": False,
        },
    ],
}


def dump(redis) -> dict:
    """Every catalog hash, every branch's settings and the national audit, as stored."""
    return {
        "catalog": {key: redis.hgetall(key) for key in (keys.AREAS, keys.SERVICES, keys.BRANCHES)},
        "settings": sorted(redis.scan_iter(keys.branch_settings("*"))),
        "audit": redis.xlen(keys.NATIONAL_AUDIT),
    }


def rows(data: dict) -> list:
    return catalog_files.read_json(json.dumps(data))


def run(redis, clock, data, **flags):
    return catalog_files.import_catalog(redis, rows(data), clock(), SYSTEM, **flags)


def test_a_dry_run_says_what_it_would_do_and_changes_nothing(app, redis, clock):
    before = dump(redis)
    report = run(redis, clock, NEW, dry_run=True)
    assert report.problems == []
    assert report.lines() == [
        "areas: added 1 (papua-selatan); changed 0; unchanged 0",
        "services: added 1 (pkp); changed 0; unchanged 0",
        "branches: added 1 (tanah-merah); changed 1 (bekasi); unchanged 0",
    ]
    assert dump(redis) == before


def test_an_import_adds_and_changes_audited_as_a_system_change(app, redis, clock):
    report = run(redis, clock, NEW)
    assert report.changes == 4
    assert catalog.get_branch(redis, "bekasi").services == ["jht", "info"]
    assert catalog.get_branch(redis, "bekasi").withdrawn_services == [
        "jkk",
        "jkm",
        "jp",
        "jkp",
        "registration",
        "card",
    ]
    tanah_merah = schedules.load_settings(redis, "tanah-merah")
    assert tanah_merah.online_booking is False and tanah_merah.service_hours["mon"] == []
    entries = audit.read(redis)
    assert {(e.action, e.target, e.actor, e.address) for e in entries} == {
        ("area_created", "papua-selatan", "cli", "cli"),
        ("service_created", "pkp", "cli", "cli"),
        ("branch_created", "tanah-merah", "cli", "cli"),
        ("branch_changed", "bekasi", "cli", "cli"),
    }
    [changed] = [e for e in entries if e.action == "branch_changed"]
    assert ("address", json.dumps(demo_branch("bekasi").address), '"Jl. Ahmad Yani No. 2, Bekasi"') in (
        changed.changes()
    )

    again = run(redis, clock, NEW)
    assert again.changes == 0 and len(audit.read(redis)) == 4
    assert again.unchanged["branch"] == ["tanah-merah", "bekasi"]


def demo_branch(branch_id: str):
    return next(branch for branch in demo.BRANCHES if branch.id == branch_id)


def test_an_export_imported_again_changes_nothing(app, redis, clock):
    run(redis, clock, NEW)
    exported = catalog_files.export(redis)
    before = dump(redis)

    report = catalog_files.import_catalog(
        redis, catalog_files.read_json(catalog_files.to_text(exported)), clock(), SYSTEM
    )

    assert report.problems == [] and report.changes == 0
    assert len(report.unchanged["branch"]) == 43 and len(report.unchanged["service"]) == 9
    assert dump(redis) == before


def test_the_demo_s_export_is_its_shipped_file(app, redis):
    shipped = json.loads(demo.catalog_file_text())
    exported = catalog_files.export(redis)
    for section in ("areas", "services", "branches"):
        assert exported[section] == sorted(shipped[section], key=lambda entry: entry["id"])


def test_one_wrong_row_refuses_the_whole_file_naming_its_row_and_field(app, redis, clock):
    before = dump(redis)
    data = {
        **NEW,
        "branches": [
            *NEW["branches"],
            {**NEW["branches"][0], "id": "merauke-kota", "timezone": "WIT", "area_id": "atlantis"},
        ],
    }
    report = run(redis, clock, data)
    assert [str(problem) for problem in report.problems] == [
        "branches row 3 (merauke-kota): timezone: unknown_timezone",
    ]
    assert dump(redis) == before

    # Against the catalog the file would leave: an area no row adds.
    data["branches"][2]["timezone"] = "Asia/Jayapura"
    assert run(redis, clock, data).problems == [
        Problem("branches row 3 (merauke-kota)", "area_id", "unknown_area")
    ]
    assert dump(redis) == before


def test_a_row_without_an_id_or_of_the_wrong_shape_is_named_by_its_place(app, redis, clock):
    report = run(redis, clock, {"areas": [{"name": "Tanpa kode"}, "Papua", {"id": "banten", "name": "B"}]})
    assert [str(problem) for problem in report.problems] == [
        "areas row 1: id: required",
        "areas row 2: body: not_object",
    ]


def test_a_file_naming_an_id_twice_is_refused(app, redis, clock):
    report = run(redis, clock, {"areas": [NEW["areas"][0], {**NEW["areas"][0], "name": "Lain"}]})
    assert [str(problem) for problem in report.problems] == ["areas row 2 (papua-selatan): id: duplicate_id"]


def test_a_time_zone_under_bookings_is_refused_in_a_file_too(app, redis, clock, reservations):
    reservations.reserve(booking_request(branch_id="bekasi"), clock())
    moved = {**NEW["branches"][1], "timezone": "Asia/Makassar"}
    report = run(redis, clock, {"branches": [moved]})
    assert [str(problem) for problem in report.problems] == [
        "branches row 1 (bekasi): timezone: has_bookings"
    ]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("not json", "not JSON"),
        ("[]", "not a catalog"),
        ('{"branch": []}', "unknown section 'branch'"),
        ('{"areas": {}}', "areas: expected a list"),
    ],
)
def test_a_file_that_is_no_catalog_is_refused_whole(text, says):
    with pytest.raises(CatalogFileError, match=says):
        catalog_files.read_json(text)


CSV = (
    "id,name,area_id,address,timezone,services,retired\n"
    'tanah-merah,Tanah Merah,maluku-papua,"Jl. Trikora No. 2, Tanah Merah",Asia/Jayapura,jht; info,\n'
    "\n"
    'bekasi,Bekasi,jawa-barat,"Jl. Ahmad Yani No. 1, Kayuringin Jaya, Bekasi Selatan, Kota Bekasi 17144",'
    "Asia/Jakarta,jht;info,TRUE\n"
)


def test_branches_come_from_a_csv_file(app, redis, clock, tmp_path):
    path = tmp_path / "cabang.csv"
    path.write_text("\ufeff" + CSV, encoding="utf-8")  # as a spreadsheet saves it
    report = catalog_files.import_catalog(redis, catalog_files.read_file(path), clock(), SYSTEM)
    assert report.problems == []
    assert (report.added["branch"], report.changed["branch"]) == (["tanah-merah"], ["bekasi"])
    tanah_merah, bekasi = catalog.get_branch(redis, "tanah-merah"), catalog.get_branch(redis, "bekasi")
    assert tanah_merah.services == ["jht", "info"] and tanah_merah.retired is False
    assert bekasi.retired is True and bekasi.services == ["jht", "info"]


def test_a_csv_names_its_bad_rows_as_a_spreadsheet_numbers_them(tmp_path):
    text = CSV.replace(",jht;info,TRUE", ",jht;info,maybe") + "short,row\n"
    rows = catalog_files.read_csv(text)
    assert [row.label for row in rows] == ["row 2", "row 4", "row 5"]
    assert rows[2].problem == ("cells", "7_cells_expected")
    with pytest.raises(CatalogFileError, match="the header must be"):
        catalog_files.read_csv("id;name\n")


def test_a_csv_row_s_problems_are_named(app, redis, clock):
    text = CSV.replace(",jht;info,TRUE", ",jht;info,maybe") + "short,row\n"
    report = catalog_files.import_catalog(redis, catalog_files.read_csv(text), clock(), SYSTEM)
    assert [str(problem) for problem in report.problems] == [
        "row 4 (bekasi): retired: not_boolean",
        "row 5: cells: 7_cells_expected",
    ]


def test_seeding_again_keeps_an_admin_s_change_and_completes_what_an_older_version_stored(redis, clock):
    assert demo.seed(redis) == 42 + 12 + 8 + 42
    redis.hset(keys.SERVICES, "jkk", json.dumps({"id": "jkk", "name": "Klaim JKK", "prefix": "B"}))
    redis.hset(keys.AREAS, "banten", json.dumps({"id": "banten", "name": "Banten Raya"}))
    redis.hdel(keys.BRANCHES, "sorong")

    assert demo.seed(redis) == 2  # sorong again, jkk's requirements
    jkk = catalog.get_service(redis, "jkk")
    assert jkk.name == "Klaim JKK" and jkk.requirements.documents[0] == "KTP elektronik (asli)"
    assert catalog.get_area(redis, "banten").name == "Banten Raya"
    assert catalog.get_branch(redis, "sorong").timezone == "Asia/Jayapura"
    assert schedules.load_settings(redis, "sorong").online_booking is True  # its demo hours
    assert audit.read(redis) == []  # the tests' seed names no actor
    assert demo.seed(redis) == 0


def test_a_seed_by_an_operator_is_audited(redis, clock):
    demo.seed(redis, SYSTEM, clock())
    assert len(audit.read(redis, action="branch_created")) == 42


def test_the_extractor_gives_the_demo_s_service_texts_each_translated():
    texts = [
        message
        for _line, _function, message, _comments in catalog_files.extract_texts(
            io.BytesIO(demo.catalog_file_text().encode()), {}, [], {}
        )
    ]
    assert "Klaim Jaminan Hari Tua (JHT)" in texts and "Mengundurkan diri" in texts
    assert "Klaim dapat diajukan 1 bulan setelah tanggal berhenti bekerja." in texts
    with CATALOG.open("rb") as source:
        translated = {m.id for m in read_po(source) if m.id and m.string}
    assert [text for text in texts if text not in translated] == []


def test_the_report_counts_what_an_import_changes():
    report = catalog_files.ImportReport()
    report.added["area"].append("x")
    report.unchanged["branch"] += ["a", "b"]
    assert report.changes == 1
    assert report.lines()[2] == "branches: added 0; changed 0; unchanged 2 (a, b)"
