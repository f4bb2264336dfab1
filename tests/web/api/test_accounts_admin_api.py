"""The admin API's accounts (issue 22, SPEC §6): PATCH and DELETE an account, reset its
password, unlock it; tokens with an expiry and their last use; sessions listed and ended."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from queue_service.domain import audit
from queue_service.domain.accounts import BRANCH_ADMIN, COUNTER_STAFF, NATIONAL_ADMIN

ACCOUNTS = "/api/v1/admin/accounts"
PASSWORD = "kata sandi panjang"


@pytest.fixture
def staff(client, token):
    """Counter staff ``loket1`` of Bekasi with a console password: its bearer header."""
    made = client.post(
        ACCOUNTS,
        headers=token(),
        json={"username": "loket1", "role": COUNTER_STAFF, "branches": ["bekasi"], "password": PASSWORD},
    )
    assert made.status_code == 201
    return {"Authorization": f"Bearer {made.get_json()['token']}"}


def counter_session(app, address="10.0.0.5"):
    """A browser signed in to the counter page as ``loket1``."""
    browser = app.test_client()
    page = browser.get("/counter/masuk").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    signed = browser.post(
        "/counter/masuk",
        data={"csrf_token": csrf, "username": "loket1", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": address},
    )
    assert signed.status_code == 303
    return browser


def signed_in(browser) -> bool:
    return browser.get("/counter/").status_code == 200


def test_disabling_stops_the_accounts_token_and_session_at_once_and_enabling_restores_the_token(
    app, client, token, staff
):
    national, own = token(), f"{ACCOUNTS}/loket1/tokens"
    browser = counter_session(app)
    assert client.get(own, headers=staff).status_code == 200 and signed_in(browser)

    changed = client.patch(f"{ACCOUNTS}/loket1", headers=national, json={"disabled": True})

    assert changed.status_code == 200
    assert changed.get_json()["disabled"] is True
    assert client.get(own, headers=staff).status_code == 401
    assert not signed_in(browser)

    assert client.patch(f"{ACCOUNTS}/loket1", headers=national, json={"disabled": False}).status_code == 200
    assert client.get(own, headers=staff).status_code == 200
    assert not signed_in(browser)  # the session stays ended


def test_a_disabled_account_cannot_sign_in_even_with_its_password(app, client, token, staff):
    client.patch(f"{ACCOUNTS}/loket1", headers=token(), json={"disabled": True})
    browser = app.test_client()
    page = browser.get("/counter/masuk").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    refused = browser.post(
        "/counter/masuk", data={"csrf_token": csrf, "username": "loket1", "password": PASSWORD}
    )
    assert refused.status_code == 403 and "dinonaktifkan" in refused.get_data(as_text=True)


def test_a_branch_admin_changes_only_their_branchs_counter_staff(client, token, staff):
    admin = token(BRANCH_ADMIN, "bekasi", "bogor-kota")
    token(COUNTER_STAFF, "jakarta-salemba")  # user2, another branch's
    token(BRANCH_ADMIN, "bekasi")  # user3, an admin

    assert client.patch(f"{ACCOUNTS}/loket1", headers=admin, json={"disabled": True}).status_code == 200
    moved = client.patch(f"{ACCOUNTS}/loket1", headers=admin, json={"branches": ["bogor-kota"]})
    assert moved.status_code == 200 and moved.get_json()["branches"] == ["bogor-kota"]
    for username, body in (
        ("user2", {"disabled": True}),
        ("user3", {"disabled": True}),
        ("loket1", {"role": BRANCH_ADMIN}),
        ("loket1", {"branches": ["jakarta-salemba"]}),
    ):
        assert client.patch(f"{ACCOUNTS}/{username}", headers=admin, json=body).status_code == 403
    for path in ("user2", "user3"):
        assert client.delete(f"{ACCOUNTS}/{path}", headers=admin).status_code == 403
        assert client.post(f"{ACCOUNTS}/{path}/password-reset", headers=admin).status_code == 403
    assert client.patch(f"{ACCOUNTS}/loket1", headers=staff, json={"disabled": False}).status_code == 401


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"role": COUNTER_STAFF, "branches": ["bekasi", "bogor-kota"]}, 422, "branches"),
        ({"role": BRANCH_ADMIN, "branches": []}, 422, "branches"),
        ({"branches": ["atlantis"]}, 422, "branches"),
        ({"role": "king"}, 422, "role"),
        ({"disabled": "yes"}, 400, "disabled"),
        ({"branches": "bekasi"}, 400, "branches"),
        ({"password": PASSWORD}, 422, "password"),
    ],
)
def test_bad_changes_are_refused_naming_the_field(client, token, staff, body, status, field):
    response = client.patch(f"{ACCOUNTS}/loket1", headers=token(), json=body)
    assert response.status_code == status
    assert list(response.get_json()["error"]["fields"]) == [field]


def test_role_and_branches_change_and_the_last_national_admin_stays(client, token, staff):
    national = token()
    promoted = client.patch(f"{ACCOUNTS}/loket1", headers=national, json={"role": NATIONAL_ADMIN})
    assert promoted.get_json() | {"created_at": ""} == {
        "username": "loket1",
        "role": NATIONAL_ADMIN,
        "branches": [],
        "password": True,
        "disabled": False,
        "must_change_password": False,
        "created_at": "",
    }
    assert client.delete(f"{ACCOUNTS}/loket1", headers=national).status_code == 204
    # user0 (who made loket1) and user1 are national admins: one of them may go, not both.
    assert client.patch(f"{ACCOUNTS}/user0", headers=national, json={"disabled": True}).status_code == 200
    refused = client.patch(f"{ACCOUNTS}/user1", headers=national, json={"disabled": True})
    assert refused.status_code == 422
    assert refused.get_json()["error"]["fields"] == {
        "disabled": ["Harus tetap ada satu admin nasional yang aktif."]
    }
    assert client.delete(f"{ACCOUNTS}/user1", headers=national).status_code == 422
    demoted = client.patch(
        f"{ACCOUNTS}/user1", headers=national, json={"role": BRANCH_ADMIN, "branches": ["bekasi"]}
    )
    assert list(demoted.get_json()["error"]["fields"]) == ["role"]
    assert client.patch(f"{ACCOUNTS}/nobody", headers=national, json={}).status_code == 404


def test_delete_keeps_the_accounts_audit_entries(client, token, staff, redis):
    national = token()
    assert client.delete(f"{ACCOUNTS}/loket1", headers=national).status_code == 204
    assert client.get(f"{ACCOUNTS}/loket1/tokens", headers=staff).status_code == 401
    assert client.delete(f"{ACCOUNTS}/loket1", headers=national).status_code == 404
    entries = client.get("/api/v1/admin/audit?action=account_deleted", headers=national).get_json()["entries"]
    assert [e["target"] for e in entries] == ["loket1"]
    assert [e.action for e in audit.read(redis) if e.target == "loket1"] == [
        "account_deleted",
        "account_created",
    ]


def test_a_reset_answers_a_temporary_password_once_to_be_changed(app, client, token, staff, redis):
    national = token()
    browser = counter_session(app)

    reset = client.post(f"{ACCOUNTS}/loket1/password-reset", headers=national)

    assert reset.status_code == 201
    temporary = reset.get_json()["temporary_password"]
    assert re.fullmatch(r"[a-z2-9]{5}(-[a-z2-9]{5}){3}", temporary)
    assert not signed_in(browser)
    [shown] = [
        a for a in client.get(ACCOUNTS, headers=national).get_json()["accounts"] if a["username"] == "loket1"
    ]
    assert shown["must_change_password"] is True
    assert app.extensions["antrian"].accounts.check_password("loket1", temporary) is not None
    assert app.extensions["antrian"].accounts.check_password("loket1", PASSWORD) is None
    assert temporary not in str(redis.xrange("antrian:{national}:audit"))


def test_unlock_clears_the_failed_sign_ins(app, client, token, staff):
    sign_in = app.extensions["antrian"].sign_in
    when = app.extensions["antrian"].clock()
    for _ in range(5):
        with pytest.raises(Exception, match="bad_credentials"):
            sign_in.attempt("loket1", "salah", "10.0.0.5", when)
    with pytest.raises(Exception, match="locked_out"):
        sign_in.attempt("loket1", PASSWORD, "10.0.0.5", when)

    assert client.post(f"{ACCOUNTS}/loket1/unlock", headers=token()).status_code == 204

    assert sign_in.attempt("loket1", PASSWORD, "10.0.0.5", when).username == "loket1"
    assert client.post(f"{ACCOUNTS}/nobody/unlock", headers=token()).status_code == 404


def test_a_token_may_expire_and_lists_its_expiry_and_last_use(client, token, clock):
    national = token()
    url = f"{ACCOUNTS}/user0/tokens"
    made = client.post(url, headers=national, json={"name": "nightly", "expires_in_days": 7})
    assert made.status_code == 201
    expires = clock() + dt.timedelta(days=7)
    assert made.get_json()["expires_at"] == expires.isoformat()
    nightly = {"Authorization": f"Bearer {made.get_json()['token']}"}

    assert client.get(url, headers=nightly).status_code == 200
    listed = {t["name"]: t for t in client.get(url, headers=national).get_json()["tokens"]}
    assert listed["nightly"]["last_used_at"] == clock().astimezone(dt.UTC).isoformat()
    assert (listed["nightly"]["expires_at"], listed["nightly"]["expired"]) == (expires.isoformat(), False)
    assert listed["default"]["expires_at"] is None

    clock.set(expires)
    assert client.get(url, headers=nightly).status_code == 401
    listed = {t["name"]: t for t in client.get(url, headers=national).get_json()["tokens"]}
    assert listed["nightly"]["expired"] is True and listed["default"]["expired"] is False


@pytest.mark.parametrize(("days", "status"), [(0, 422), (367, 422), ("7", 400), (366, 201), (None, 201)])
def test_a_tokens_life_is_one_day_to_a_year(client, token, days, status):
    response = client.post(
        f"{ACCOUNTS}/user0/tokens", headers=token(), json={"name": "n", "expires_in_days": days}
    )
    assert response.status_code == status
    if status != 201:
        assert list(response.get_json()["error"]["fields"]) == ["expires_in_days"]


def test_sessions_are_listed_and_ended_one_by_one(app, client, token, staff):
    national = token()
    first, second = counter_session(app, "10.0.0.5"), counter_session(app, "10.0.0.6")

    listed = client.get(f"{ACCOUNTS}/loket1/sessions", headers=national).get_json()["sessions"]

    assert sorted(s["address"] for s in listed) == ["10.0.0.5", "10.0.0.6"]
    assert {s["surface"] for s in listed} == {"counter"}
    assert all(s["started_at"] and s["last_used_at"] for s in listed)
    ended = next(s["id"] for s in listed if s["address"] == "10.0.0.5")
    assert client.delete(f"{ACCOUNTS}/loket1/sessions/{ended}", headers=national).status_code == 204
    assert not signed_in(first) and signed_in(second)
    assert client.delete(f"{ACCOUNTS}/loket1/sessions/{ended}", headers=national).status_code == 404
    assert len(client.get(f"{ACCOUNTS}/loket1/sessions", headers=national).get_json()["sessions"]) == 1
    other = token(BRANCH_ADMIN, "jakarta-salemba")
    assert client.get(f"{ACCOUNTS}/loket1/sessions", headers=other).status_code == 403


def test_the_document_names_every_accounts_operation(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    account = paths["/api/v1/admin/accounts/{username}"]
    assert set(account) == {"patch", "delete"}
    assert "204" in account["delete"]["responses"]
    assert "201" in paths["/api/v1/admin/accounts/{username}/password-reset"]["post"]["responses"]
    assert "204" in paths["/api/v1/admin/accounts/{username}/unlock"]["post"]["responses"]
    assert set(paths["/api/v1/admin/accounts/{username}/sessions"]) == {"get"}
    assert set(paths["/api/v1/admin/accounts/{username}/sessions/{session_id}"]) == {"delete"}
