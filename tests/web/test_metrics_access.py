"""Who may read /metrics: with METRICS_TOKEN, its bearer only; without, anyone in
development and no one in production (it names branches and their traffic)."""

from __future__ import annotations

import pytest

PRODUCTION = {"APP_ENV": "production", "SECRET_KEY": "s" * 32, "CAPTCHA_TEST_ANSWER": None}
TOKEN = "scrape-me-0123456789"


def test_with_a_token_only_its_bearer_reads_the_metrics(make_app):
    client = make_app(METRICS_TOKEN=TOKEN).test_client()
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        refused = client.get("/metrics", headers=headers)
        assert refused.status_code == 401
        assert refused.get_json()["error"]["code"] == "unauthorized"
        assert "antrian_" not in refused.get_data(as_text=True)
    read = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert read.status_code == 200 and "antrian_holds" in read.get_data(as_text=True)


# Not named "settings": that would stand in for the suite's settings fixture, which make_app
# builds on, and the app would start an embedded Redis in the checkout's ./var.
@pytest.mark.parametrize(
    "environment, status",
    [({}, 200), (PRODUCTION, 404)],
)
def test_without_a_token_development_is_open_and_production_is_closed(make_app, environment, status):
    assert make_app(**environment).test_client().get("/metrics").status_code == status


def test_production_with_a_token_serves_its_bearer(make_app):
    client = make_app(**PRODUCTION, METRICS_TOKEN=TOKEN).test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
