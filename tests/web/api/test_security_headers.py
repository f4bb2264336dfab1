"""Every answer says its type is to be trusted (nosniff); the admin API's are never kept."""

from __future__ import annotations


def test_json_and_media_answers_carry_nosniff(client):
    captcha = client.post("/api/v1/captcha").get_json()
    for response in (
        client.get("/api/v1/areas"),
        client.get("/api/v1/branches/no-such-branch"),
        client.get(captcha["image_url"]),
        client.get("/healthz"),
    ):
        assert response.headers["X-Content-Type-Options"] == "nosniff", response.request.path


def test_admin_answers_are_never_cached_refusals_included(client, token):
    answers = (
        client.get("/api/v1/admin/branches/jakarta-salemba/settings", headers=token()),
        client.get("/api/v1/admin/branches/jakarta-salemba/settings"),
        client.get("/api/v1/admin/accounts", headers=token()),
    )
    assert [a.status_code for a in answers] == [200, 401, 200]
    for answer in answers:
        assert answer.headers["Cache-Control"] == "no-store"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" not in client.get("/api/v1/areas").headers.get("Cache-Control", "")


def test_production_answers_ask_for_https_from_then_on(make_app):
    production = {"APP_ENV": "production", "SECRET_KEY": "s" * 32, "CAPTCHA_TEST_ANSWER": None}
    secure = make_app(**production).test_client()
    for path in ("/api/v1/areas", "/healthz", "/"):
        assert secure.get(path).headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "Strict-Transport-Security" not in make_app().test_client().get("/api/v1/areas").headers
