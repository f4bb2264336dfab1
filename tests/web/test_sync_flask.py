"""The app's memo of which views and hooks are coroutines (``SyncFlask.ensure_sync``)."""

import gc

from flask import after_this_request


def test_views_and_hooks_run_as_they_are_and_one_request_hooks_are_not_kept(app, client):
    seen = []

    @app.get("/test-only/after-this-request")
    def with_a_hook_of_its_own():
        @after_this_request
        def mark(response):
            seen.append(response.status_code)
            response.headers["X-Marked"] = "1"
            return response

        return {"ok": True}

    for _ in range(50):
        response = client.get("/test-only/after-this-request")
        assert response.status_code == 200
        assert response.headers["X-Marked"] == "1"
    assert seen == [200] * 50
    gc.collect()
    # The view and the app's hooks are remembered; the fifty one-request hooks are gone.
    assert with_a_hook_of_its_own in app._is_coroutine
    assert app._is_coroutine[with_a_hook_of_its_own] is False
    assert len(app._is_coroutine) < 30, list(app._is_coroutine)
