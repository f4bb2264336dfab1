"""`queue-service import-catalog FILE [--dry-run]` and `export-catalog [FILE]` in a process of
their own (SPEC §6): a dry run changes nothing, export then import changes nothing, one bad
row changes nothing and is named with its field, and a CSV of branches."""

from __future__ import annotations

import json

from queue_service.domain import audit, catalog
from tests.domain.test_catalog_files import NEW, dump


def test_a_dry_run_prints_what_it_would_do_and_changes_nothing(app, redis, runner, tmp_path):
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(NEW))
    before = dump(redis)

    done = runner("import-catalog", str(path), "--dry-run")

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "areas: added 1 (papua-selatan); changed 0; unchanged 0",
        "services: added 1 (pkp); changed 0; unchanged 0",
        "branches: added 1 (tanah-merah); changed 1 (bekasi); unchanged 0",
        "dry run: nothing changed",
    ]
    assert dump(redis) == before


def test_import_then_export_then_import_changes_nothing(app, redis, runner, tmp_path):
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(NEW))
    assert runner("import-catalog", str(path)).returncode == 0
    assert catalog.get_branch(redis, "tanah-merah").area_id == "papua-selatan"
    assert [e.actor for e in audit.read(redis)] == ["cli"] * 4

    exported = tmp_path / "exported.json"
    written = runner("export-catalog", str(exported))
    assert written.returncode == 0 and written.stdout == f"catalog written to {exported}\n"
    assert json.loads(exported.read_text()) == json.loads(runner("export-catalog").stdout)
    before = dump(redis)

    again = runner("import-catalog", str(exported))

    assert again.returncode == 0, again.stderr
    assert [line.split(";")[:2] for line in again.stdout.splitlines()] == [
        ["areas: added 0", " changed 0"],
        ["services: added 0", " changed 0"],
        ["branches: added 0", " changed 0"],
    ]
    assert "unchanged 43 (" in again.stdout
    assert dump(redis) == before


def test_a_file_with_one_bad_row_changes_nothing_and_names_the_row_and_field(app, redis, runner, tmp_path):
    bad = {**NEW, "branches": [*NEW["branches"], {**NEW["branches"][0], "id": "muting", "timezone": "WIT"}]}
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(bad))
    before = dump(redis)

    done = runner("import-catalog", str(path))

    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.splitlines() == [
        f"queue-service: {path} refused, nothing changed:",
        "  branches row 3 (muting): timezone: unknown_timezone",
    ]
    assert dump(redis) == before


def test_a_file_that_is_not_a_catalog_or_not_there_is_one_line(app, runner, tmp_path):
    path = tmp_path / "catalog.json"
    path.write_text("{")
    done = runner("import-catalog", str(path))
    assert done.returncode == 1 and len(done.stderr.splitlines()) == 1 and "not JSON" in done.stderr
    missing = runner("import-catalog", str(tmp_path / "nowhere.json"))
    assert missing.returncode == 1 and "cannot read" in missing.stderr


def test_branches_import_from_a_csv_file(app, redis, runner, tmp_path):
    path = tmp_path / "cabang.csv"
    path.write_text(
        "id,name,area_id,address,timezone,services,retired\n"
        'tanah-merah,Tanah Merah,maluku-papua,"Jl. Trikora No. 2, Tanah Merah",Asia/Jayapura,jht;info,false\n'
    )

    done = runner("import-catalog", str(path))

    assert done.returncode == 0, done.stderr
    assert "branches: added 1 (tanah-merah)" in done.stdout
    branch = catalog.get_branch(redis, "tanah-merah")
    assert (branch.area_id, branch.services, branch.retired) == ("maluku-papua", ["jht", "info"], False)
