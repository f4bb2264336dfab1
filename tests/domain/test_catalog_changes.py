"""The national admin's changes to the catalog, called directly: every rule (slugs, known areas
and services, the three time zones, one-letter prefixes of their own, no time zone or prefix
change under bookings from today on), a new branch's start, and the audit of each change."""

from __future__ import annotations

import datetime as dt

import pytest

from queue_service.domain import audit, calendar, catalog, schedules
from queue_service.domain.audit import Actor
from queue_service.domain.availability import availability
from queue_service.domain.catalog_changes import AREA, BRANCH, SERVICE, CatalogChanges, read_document
from queue_service.domain.errors import NotBookableError, NotFoundError, ValidationFailedError
from queue_service.store import keys
from tests.factories import booking_request

ADMIN = Actor("nasional", "national_admin", "192.0.2.1")
TUESDAY = dt.date(2026, 11, 24)


@pytest.fixture
def changes(app, redis):
    return CatalogChanges(redis)


def new_branch(**overrides) -> dict:
    return {
        "id": "balikpapan-kota",
        "name": "Balikpapan Kota",
        "area_id": "kalimantan",
        "address": "Jl. Jend. Sudirman No. 1, Balikpapan",
        "timezone": "Asia/Makassar",
        "services": ["jht", "info"],
        **overrides,
    }


def refused(call, *args) -> dict:
    with pytest.raises(ValidationFailedError) as error:
        call(*args)
    return error.value.fields


@pytest.mark.parametrize("bad", ["Salemba", "jakarta_salemba", "-a", "a-", "a--b", "a b", "", "a" * 65])
def test_ids_are_slugs(changes, clock, bad):
    assert refused(changes.create, AREA, {"id": bad, "name": "Wilayah"}, ADMIN, clock()) == {
        "id": ["invalid_slug"]
    }


def test_a_slug_of_64_characters_is_an_id(changes, clock, redis):
    changes.create(AREA, {"id": "a" * 64, "name": "Wilayah"}, ADMIN, clock())
    assert catalog.get_area(redis, "a" * 64).name == "Wilayah"


def test_an_id_never_changes_and_is_never_taken_twice(changes, clock):
    assert refused(
        changes.update, AREA, "banten", {"id": "banten-baru", "name": "Banten"}, ADMIN, clock()
    ) == {"id": ["id_mismatch"]}
    assert refused(changes.create, AREA, {"id": "banten", "name": "Banten"}, ADMIN, clock()) == {
        "id": ["id_taken"]
    }
    with pytest.raises(NotFoundError):
        changes.update(AREA, "atlantis", {"name": "Atlantis"}, ADMIN, clock())


def test_every_field_at_fault_is_named(changes, clock):
    fields = refused(
        changes.create,
        BRANCH,
        {
            "id": "x",
            "name": " spasi",
            "area_id": 7,
            "address": "",
            "timezone": "Asia/Singapore",
            "services": "jht",
        },
        ADMIN,
        clock(),
    )
    assert fields == {
        "name": ["text_format"],
        "area_id": ["not_string"],
        "address": ["text_format"],
        "timezone": ["unknown_timezone"],
        "services": ["not_list"],
    }
    assert refused(changes.create, AREA, {"id": "x", "name": "X", "extra": 1}, ADMIN, clock()) == {
        "extra": ["unknown_field"]
    }
    assert refused(changes.create, SERVICE, {"id": "x", "name": "X"}, ADMIN, clock()) == {
        "prefix": ["required"]
    }


def test_a_branch_names_an_area_and_services_that_exist(changes, clock):
    fields = refused(
        changes.create, BRANCH, new_branch(area_id="atlantis", services=["jht", "nope"]), ADMIN, clock()
    )
    assert fields == {"area_id": ["unknown_area"], "services": ["unknown_service"]}


def test_a_prefix_is_one_capital_letter_of_its_own(changes, clock):
    for bad in ("a", "AB", "1", "", "Á"):
        assert refused(
            changes.create, SERVICE, {"id": "pkp", "name": "PKP", "prefix": bad}, ADMIN, clock()
        ) == {"prefix": ["prefix_format"]}
    assert refused(changes.create, SERVICE, {"id": "pkp", "name": "PKP", "prefix": "A"}, ADMIN, clock()) == {
        "prefix": ["prefix_taken"]
    }
    assert refused(changes.update, SERVICE, "info", {"name": "Informasi", "prefix": "B"}, ADMIN, clock()) == {
        "prefix": ["prefix_taken"]
    }


def test_requirements_are_checked_field_by_field(changes, clock):
    requirements = {
        "documents": ["KTP", ""],
        "reasons": [
            {"id": "resign", "name": "Mengundurkan diri", "documents": ["Paklaring"]},
            {"id": "resign", "name": "Lagi", "documents": [3]},
            {"id": "Bad", "name": "X", "note": "  "},
        ],
        "note": None,
        "extra": [],
    }
    fields = refused(
        changes.create,
        SERVICE,
        {"id": "pkp", "name": "PKP", "prefix": "P", "requirements": requirements},
        ADMIN,
        clock(),
    )
    assert fields == {
        "requirements.documents.1": ["text_format"],
        "requirements.reasons.1.id": ["duplicate_id"],
        "requirements.reasons.1.documents.0": ["not_string"],
        "requirements.reasons.2.id": ["invalid_slug"],
        "requirements.reasons.2.note": ["text_format"],
        "requirements.extra": ["unknown_field"],
    }


def test_a_new_service_keeps_its_requirements(changes, clock, redis):
    requirements = {
        "documents": ["KTP elektronik (asli)"],
        "reasons": [{"id": "lain", "name": "Alasan lain", "documents": ["Surat"], "note": "Catatan."}],
        "note": "Datang 15 menit lebih awal.",
    }
    changes.create(
        SERVICE, {"id": "pkp", "name": "PKP", "prefix": "P", "requirements": requirements}, ADMIN, clock()
    )
    stored = catalog.get_service(redis, "pkp")
    assert stored.requirements.to_dict() == requirements
    assert stored.requirements.reasons[0].name == "Alasan lain"


def test_the_demo_s_jht_keeps_its_reasons(app, redis):
    jht = catalog.get_service(redis, "jht")
    assert [reason.id for reason in jht.requirements.reasons] == [
        "resign",
        "dismissal",
        "age",
        "disability",
        "death",
        "abroad",
    ]
    assert "KTP elektronik (asli)" in jht.requirements.documents


def test_a_new_branch_starts_without_online_booking_or_hours_and_with_the_national_closures(
    changes, clock, redis
):
    calendar.close_nationally(redis, dt.date(2026, 12, 1), "Hari Bhakti")
    changes.create(BRANCH, new_branch(), ADMIN, clock())

    settings = schedules.load_settings(redis, "balikpapan-kota")
    assert settings.online_booking is False
    assert all(hours == [] for hours in settings.service_hours.values())
    assert calendar.national_closure(redis, "balikpapan-kota", dt.date(2026, 12, 1)) == "Hari Bhakti"
    branch = catalog.get_branch(redis, "balikpapan-kota")
    assert (branch.timezone, branch.services, branch.retired) == ("Asia/Makassar", ["jht", "info"], False)
    assert availability(redis, "balikpapan-kota", TUESDAY, "jht", clock()).reason == "online_booking_off"


def test_each_change_is_audited_nationally_with_before_and_after(changes, clock, redis):
    changes.create(AREA, {"id": "papua-selatan", "name": "Papua Selatan"}, ADMIN, clock())
    changes.update(AREA, "papua-selatan", {"name": "Papua Selatan dan Tengah"}, ADMIN, clock())
    changes.update(AREA, "papua-selatan", {"name": "Papua Selatan dan Tengah"}, ADMIN, clock())  # no change

    changed, created = audit.read(redis)
    assert (created.action, created.target, created.actor) == ("area_created", "papua-selatan", "nasional")
    assert created.changes() == [
        ("", "null", '{"id": "papua-selatan", "name": "Papua Selatan"}'),
    ]
    assert changed.action == "area_changed"
    assert changed.changes() == [("name", '"Papua Selatan"', '"Papua Selatan dan Tengah"')]


def test_retiring_a_branch_and_dropping_a_service_refuse_new_bookings_only(
    changes, clock, redis, reservations
):
    kept = reservations.reserve(booking_request(service_id="jkk"), clock())
    salemba = catalog.get_branch(redis, "jakarta-salemba")
    document = {**vars(salemba), "services": [s for s in salemba.services if s != "jkk"]}
    del document["withdrawn_services"]
    changes.update(BRANCH, "jakarta-salemba", document, ADMIN, clock())

    assert catalog.get_branch(redis, "jakarta-salemba").withdrawn_services == ["jkk"]
    with pytest.raises(NotBookableError) as error:
        reservations.reserve(booking_request(service_id="jkk"), clock())
    assert error.value.detail == "service_withdrawn"
    assert availability(redis, "jakarta-salemba", TUESDAY, "jkk", clock()).reason == "service_withdrawn"
    assert reservations.lookup(kept.code, kept.nik).status == "booked"

    changes.update(BRANCH, "jakarta-salemba", {**document, "retired": True}, ADMIN, clock())
    with pytest.raises(NotBookableError) as error:
        reservations.reserve(booking_request(), clock())
    assert error.value.detail == "branch_retired"
    day = availability(redis, "jakarta-salemba", TUESDAY, "jht", clock())
    assert (day.open, day.reason, day.slots) == (False, "branch_retired", ())
    assert reservations.cancel(kept.code, kept.nik, clock()).status == "cancelled"

    # Offered again: bookable again, and no longer among the withdrawn.
    changes.update(BRANCH, "jakarta-salemba", {**document, "services": salemba.services}, ADMIN, clock())
    assert catalog.get_branch(redis, "jakarta-salemba").withdrawn_services == []
    assert reservations.reserve(booking_request(service_id="jkk"), clock()).status == "booked"


def test_a_time_zone_cannot_change_under_bookings_from_today_on(changes, clock, redis, reservations):
    salemba = catalog.get_branch(redis, "jakarta-salemba")
    document = {
        name: getattr(salemba, name) for name in ("name", "area_id", "address", "services", "retired")
    }
    booking = reservations.reserve(booking_request(date=TUESDAY), clock())

    fields = refused(
        changes.update, BRANCH, "jakarta-salemba", {**document, "timezone": "Asia/Makassar"}, ADMIN, clock()
    )
    assert fields == {"timezone": ["has_bookings"]}

    # Once the day is over, its bookings are past: the zone may change.
    clock.set(clock() + dt.timedelta(days=2))
    changes.update(BRANCH, "jakarta-salemba", {**document, "timezone": "Asia/Makassar"}, ADMIN, clock())
    assert catalog.get_branch(redis, "jakarta-salemba").timezone == "Asia/Makassar"
    assert reservations.get("jakarta-salemba", booking.code).status == "booked"


def test_a_time_zone_changes_freely_at_a_branch_without_bookings(changes, clock, redis):
    bekasi = catalog.get_branch(redis, "bekasi")
    document = {name: getattr(bekasi, name) for name in ("name", "area_id", "address", "services")}
    changes.update(BRANCH, "bekasi", {**document, "timezone": "Asia/Jayapura"}, ADMIN, clock())
    assert catalog.get_branch(redis, "bekasi").timezone == "Asia/Jayapura"


def test_a_prefix_cannot_change_while_any_branch_has_numbers_of_it_from_today_on(
    changes, clock, redis, reservations
):
    # Booked at another branch than the one the admin looks at; cancelled, the number stays used.
    booking = reservations.reserve(booking_request(branch_id="bekasi", service_id="jkm"), clock())
    reservations.cancel(booking.code, booking.nik, clock())
    jkm = catalog.get_service(redis, "jkm")
    document = {"name": jkm.name, "prefix": "K", "requirements": jkm.requirements.to_dict()}

    assert refused(changes.update, SERVICE, "jkm", document, ADMIN, clock()) == {"prefix": ["has_bookings"]}
    # Its name and requirements may change all the same.
    changes.update(SERVICE, "jkm", {**document, "prefix": "C", "name": "Klaim JKM"}, ADMIN, clock())
    assert catalog.get_service(redis, "jkm").name == "Klaim JKM"

    info = catalog.get_service(redis, "info")
    changes.update(SERVICE, "info", {"name": info.name, "prefix": "Z"}, ADMIN, clock())
    assert catalog.get_service(redis, "info").prefix == "Z"
    assert reservations.reserve(booking_request(service_id="info"), clock()).queue_number == "Z-001"


def test_a_walk_in_today_holds_its_service_s_prefix(changes, clock, redis):
    redis.hset(keys.walk_in_counts("bekasi", "2026-11-23"), "service:card", 1)
    card = catalog.get_service(redis, "card")
    assert refused(changes.update, SERVICE, "card", {"name": card.name, "prefix": "Y"}, ADMIN, clock()) == {
        "prefix": ["has_bookings"]
    }


def test_read_document_gives_defaults_and_the_path_s_id():
    checked, problems = read_document(SERVICE, {"name": "PKP", "prefix": "P"}, path_id="pkp")
    assert problems == {}
    assert checked == {
        "id": "pkp",
        "name": "PKP",
        "prefix": "P",
        "requirements": {"documents": [], "reasons": [], "note": None},
    }
    assert read_document(AREA, [1, 2]) == ({}, {"body": ["not_object"]})
