"""No cache keeps VirtDancer's answers about VMs and users (finding 13); ETags still give 304s."""

import pytest

from .conftest import WEB_1


@pytest.mark.parametrize("path, status", [
    ("/stats/cpu", 200), ("/stats/mem", 200), (f"/vm/{WEB_1}/stats", 200), ("/metrics", 200),
    ("/session", 200), ("/vm/00000000-0000-0000-0000-000000000000", 404),
    ("/no/such/thing", 404), ("/vm?detail=abc", 400), ("/static/no-such-file.js", 404),
])
def test_api_answers_and_errors_are_not_stored(testapp, path, status):
    assert testapp.get(path, status=status).headers["Cache-Control"] == "no-store"


def test_the_login_answer_with_its_csrf_token_is_not_stored(anonymous):
    response = anonymous.post_json("/login", {"username": "viewer", "password": "viewer"})
    assert response.headers["Cache-Control"] == "no-store"
    response = anonymous.post_json("/login", {"username": "viewer", "password": "no"},
                                   status=401)
    assert response.headers["Cache-Control"] == "no-store"


def test_answers_without_login_are_not_stored(anonymous):
    assert anonymous.get("/vm", status=401).headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/vm", "/vm?detail=1", f"/vm/{WEB_1}"])
def test_answers_with_an_etag_are_revalidated_and_304(testapp, path):
    response = testapp.get(path)
    assert response.headers["Cache-Control"] == "private, no-cache"
    again = testapp.get(path, headers={"If-None-Match": response.headers["ETag"]}, status=304)
    assert again.headers["Cache-Control"] == "private, no-cache"


def test_the_page_is_not_stored_its_files_may_be(testapp):
    assert testapp.get("/").headers["Cache-Control"] == "no-store"
    assert testapp.get("/static/fleet.js").headers["Cache-Control"] == "max-age=3600"
