"""Login sessions end for good: at logout, after their maximum age, and never come back renewed.

The session cookie is signed, not stored: a copy kept by whoever saw it stays well-formed. These
tests move the clocks of Pyramid's session and of VirtDancer's policy together.
"""

import base64
import hashlib
import json

import pyramid.request
import pyramid.session
import pytest
import webtest
from pyramid.interfaces import ISecurityPolicy, ISessionFactory

from virtdancer.security.passwords import hash_password

from .conftest import SECRET, WEB_1, close_app, make_app

COOKIE = "virtdancer_session"


class Clock:
    """Stands in for the `time` module of Pyramid's sessions, and for the policy's clock."""

    def __init__(self, now=1_800_000_000.0):
        self.now = now

    def time(self):
        return self.now

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(pyramid.session, "time", clock)
    return clock


def session_app(clock, **settings):
    app = make_app(**{"virtdancer.session.timeout": "70", **settings})
    app.registry.getUtility(ISecurityPolicy).clock = clock
    return app


@pytest.fixture
def app70(clock):
    app = session_app(clock)
    yield app
    close_app(app)


def browser(app):
    return webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "192.0.2.20"})


def with_cookie(app, cookie):
    client = browser(app)
    client.set_cookie(COOKIE, cookie)
    return client


def log_in(client, user):
    return client.post_json("/login", {"username": user, "password": user}).json["csrf_token"]


def session_data(cookie):
    """What a session cookie holds: Pyramid signs `[accessed, created, data]` (SHA-512)."""
    raw = base64.urlsafe_b64decode(cookie + "=" * (-len(cookie) % 4))
    return json.loads(raw[hashlib.sha512().digest_size:])[2]


def renewed_session(response):
    """The session data a response sends back in a cookie, if it sends one with a user."""
    for header in response.headers.getall("Set-Cookie"):
        name, _, rest = header.partition("=")
        value = rest.split(";", 1)[0]
        if name == COOKIE and value and "virtdancer.user" in session_data(value):
            return session_data(value)
    return None


def counted_sessions(app, monkeypatch):
    """A list that grows by one each time the app makes a session of a request's cookie."""
    factory = app.registry.getUtility(ISessionFactory)
    made, make = [], factory._make_session
    monkeypatch.setattr(factory, "_make_session",
                        lambda request: made.append(request.path) or make(request))
    return made


def test_reading_a_session_makes_none_until_it_is_due_for_renewal(app70, clock, monkeypatch):
    """Most requests only ask whose session it is: the cookie is read as it is, and a session
    is made of it only when it changes (here, when it is renewed)."""
    admin = browser(app70)
    log_in(admin, "admin")
    made = counted_sessions(app70, monkeypatch)
    for _ in range(3):
        response = admin.get(f"/vm/{WEB_1}")
        assert response.json["actions"], "the admin's actions are offered"
        assert renewed_session(response) is None
    assert made == []
    clock.now += 8           # past the 7 s reissue time of a 70 s session
    response = admin.get(f"/vm/{WEB_1}")
    assert made == [f"/vm/{WEB_1}"]
    assert renewed_session(response)["virtdancer.user"] == "admin"
    admin.get(f"/vm/{WEB_1}")     # the renewed cookie, read as it is again
    assert len(made) == 1
    clock.now += 71          # past the timeout: the session made of it is empty
    admin.get(f"/vm/{WEB_1}", status=401)
    assert len(made) == 2


def test_an_ended_session_is_never_renewed_nor_comes_back(app70, clock):
    """The review's sequence: logout, a copy shown at 62 s, the ended list purged at 73 s."""
    admin = browser(app70)
    token = log_in(admin, "admin")
    copy = admin.cookies[COOKIE]
    admin.post("/logout", headers={"X-CSRF-Token": token})

    clock.now += 62
    response = with_cookie(app70, copy).get("/session")
    assert response.json["user"] is None
    assert renewed_session(response) is None

    clock.now += 11   # 73 s: someone else logs in and out
    other = browser(app70)
    other_token = log_in(other, "viewer")
    other.post("/logout", headers={"X-CSRF-Token": other_token})

    thief = with_cookie(app70, copy)
    thief.get("/vm", status=401)
    thief.post_json(f"/vm/{WEB_1}/action", {"action": "pause"},
                    headers={"X-CSRF-Token": token}, status=401)
    viewer = webtest.TestApp(app70)
    viewer.authorization = ("Basic", ("viewer", "viewer"))
    assert viewer.get(f"/vm/{WEB_1}").json["info"]["state"] == 1


def test_a_copy_kept_fresh_until_logout_is_refused_by_the_ended_sessions_alone(app70, clock):
    """A copy taken at the last moment is as fresh as a cookie gets: only the memory of ended
    sessions can refuse it, through other logouts and for as long as it could live."""
    admin = browser(app70)
    token = log_in(admin, "admin")
    for _ in range(3):                 # in use, so Pyramid reissues it now and then
        clock.now += 61
        admin.get("/session")
    copy = admin.cookies[COOKIE]
    session_id = session_data(copy)["virtdancer.session_id"]
    admin.post("/logout", headers={"X-CSRF-Token": token})
    policy = app70.registry.getUtility(ISecurityPolicy)
    for _ in range(3):
        clock.now += 30                # within the 70 s timeout of the copy's last renewal
        other = browser(app70)
        other.post("/logout", headers={"X-CSRF-Token": log_in(other, "viewer")})
        response = with_cookie(app70, copy).get("/session")
        assert response.json["user"] is None and renewed_session(response) is None
        assert session_id in policy._ended["admin"]
        copy = response.headers.get("Set-Cookie", "").split(";", 1)[0].partition("=")[2] \
            or copy


def test_a_session_in_use_still_ends_at_its_maximum_age(clock):
    app = session_app(clock, **{"virtdancer.session.max_age": "300"})
    try:
        user = browser(app)
        log_in(user, "viewer")
        for _ in range(4):             # busy all along: never idle for the 70 s timeout
            clock.now += 65
            assert user.get("/session").json["user"] == "viewer"
        clock.now += 65                # 325 s after the login
        response = user.get("/session")
        assert response.json["user"] is None
        assert renewed_session(response) is None
        user.get("/vm", status=401)
    finally:
        close_app(app)


def test_a_restart_ends_every_session(clock):
    """Ended sessions are remembered in memory only: a new process refuses every old cookie."""
    first = session_app(clock)
    try:
        admin = browser(first)
        token = log_in(admin, "admin")
        kept, ended = admin.cookies[COOKIE], None
        other = browser(first)
        other_token = log_in(other, "viewer")
        ended = other.cookies[COOKIE]
        other.post("/logout", headers={"X-CSRF-Token": other_token})
        assert token
    finally:
        close_app(first)
    second = session_app(clock)        # the same secret, a new process
    try:
        for cookie in (kept, ended):
            response = with_cookie(second, cookie).get("/vm", status=401)
            assert renewed_session(response) is None
        log_in(browser(second), "admin")
    finally:
        close_app(second)


def test_a_password_change_ends_the_users_sessions(clock, tmp_path):
    users = tmp_path / "users.ini"
    users.write_text(f"[ann]\npassword = {hash_password('old')}\nrole = viewer\nvms = all\n")
    app = session_app(clock, **{"virtdancer.users_file": str(users)})
    try:
        ann = browser(app)
        ann.post_json("/login", {"username": "ann", "password": "old"})
        ann.get("/vm")
        users.write_text(f"[ann]\npassword = {hash_password('new')}\nrole = viewer\n"
                         "vms = all\n")
        ann.get("/vm", status=401)
        ann.post_json("/login", {"username": "ann", "password": "new"})
        ann.get("/vm")
    finally:
        close_app(app)


def test_many_logouts_keep_the_memory_small_and_end_every_session(app70, clock):
    policy = app70.registry.getUtility(ISecurityPolicy)
    kept = browser(app70)
    log_in(kept, "viewer")                   # a session of the same user, left open
    copies = []
    for _ in range(policy.MAX_ENDED_PER_USER + 20):
        client = browser(app70)
        token = log_in(client, "viewer")
        copies.append(client.cookies[COOKIE])
        client.post("/logout", headers={"X-CSRF-Token": token})
    assert len(policy._ended.get("viewer", {})) <= policy.MAX_ENDED_PER_USER
    for copy in copies[::10]:
        with_cookie(app70, copy).get("/vm", status=401)
    # So many logouts end the user's other sessions too; a new login works.
    kept.get("/vm", status=401)
    clock.now += 1
    again = browser(app70)
    log_in(again, "viewer")
    again.get("/vm")


def test_a_session_cookie_without_a_start_time_is_refused(app70):
    """A cookie of an older VirtDancer (no start time) cannot be bounded, so it is dropped."""
    session = pyramid.session.SignedCookieSessionFactory(
        SECRET, cookie_name=COOKIE, serializer=pyramid.session.JSONSerializer())
    request = pyramid.request.Request.blank("/")
    old = session(request)
    old["virtdancer.user"] = "admin"
    old["virtdancer.session_id"] = "an-id-from-before"
    response = webtest.TestResponse()
    request.response_callbacks[0](request, response)
    cookie = response.headers["Set-Cookie"].split(";", 1)[0].split("=", 1)[1]
    assert session_data(cookie)["virtdancer.user"] == "admin"
    with_cookie(app70, cookie).get("/vm", status=401)


def test_activity_keeps_even_a_short_session_alive(clock):
    app = session_app(clock, **{"virtdancer.session.timeout": "30"})
    try:
        user = browser(app)
        log_in(user, "viewer")
        for _ in range(12):            # two minutes, a request every 10 s
            clock.now += 10
            assert user.get("/session").json["user"] == "viewer"
        clock.now += 31
        assert user.get("/session").json["user"] is None
    finally:
        close_app(app)


def forged_cookie(data, accessed, created):
    """A session cookie with `data`, signed with the test secret (only its holder can)."""
    serializer = pyramid.session.JSONSerializer()
    signed = pyramid.session.SignedSerializer(SECRET, "pyramid.session.",
                                             serializer=serializer)
    return signed.dumps((accessed, created, data)).decode()


def test_a_forged_cookie_here_is_as_good_as_the_real_one(app70, clock):
    """The control for the test below: forging with the test secret works."""
    admin = browser(app70)
    log_in(admin, "admin")
    cookie = forged_cookie(session_data(admin.cookies[COOKIE]), int(clock.now), clock.now)
    assert with_cookie(app70, cookie).get("/session").json["user"] == "admin"


@pytest.mark.parametrize("change", [
    {"_csrft_": ["not", "a", "string"]},
    {"virtdancer.started": 1e308},
    {"virtdancer.started": float("nan")},
    {"virtdancer.started": "yesterday"},
])
def test_a_session_of_odd_types_is_refused_not_a_500(app70, clock, change):
    admin = browser(app70)
    token = log_in(admin, "admin")
    data = {**session_data(admin.cookies[COOKIE]), **change}
    cookie = forged_cookie(data, int(clock.now), clock.now)
    forged = with_cookie(app70, cookie)
    forged.post_json(f"/vm/{WEB_1}/action", {"action": "pause"},
                     headers={"X-CSRF-Token": token}, status=401)
    forged.get(f"/vm/{WEB_1}", status=401)
    assert forged.get("/session").json["user"] is None


def test_logout_needs_the_csrf_token(anonymous):
    token = log_in(anonymous, "viewer")
    response = anonymous.post("/logout", status=403)
    assert "CSRF" in response.json["message"]
    assert anonymous.get("/session").json["user"] == "viewer"
    anonymous.post("/logout", headers={"X-CSRF-Token": token})
    assert anonymous.get("/session").json["user"] is None
