"""Authentication, sessions, CSRF, throttling and visibility on the demo users."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import webtest
from pyramid.interfaces import ISecurityPolicy

from virtdancer.security.passwords import hash_password
from virtdancer.security.sha512_crypt import sha512_crypt

from .conftest import BUILD_1, DB_1, WEB_1, WEB_2, close_app, make_app

REPO = Path(__file__).resolve().parents[1]


def client_of(app, user=None, password=None, address="192.0.2.10"):
    client = webtest.TestApp(app, extra_environ={"REMOTE_ADDR": address})
    if user is not None:
        client.authorization = ("Basic", (user, password))
    return client


def log_in(client, user, password):
    response = client.post_json("/login", {"username": user, "password": password})
    return response.json["csrf_token"]


# -- HTTP Basic ------------------------------------------------------------------------------

def test_wrong_password_is_401_with_a_basic_challenge(app):
    response = client_of(app, "admin", "wrong").get("/vm", status=401)
    assert response.headers["WWW-Authenticate"] == 'Basic realm="VirtDancer", charset="UTF-8"'
    assert "Authorization" in response.headers["Vary"]


def test_unknown_user_is_401(app):
    client_of(app, "nobody", "admin").get("/vm", status=401)


def test_anonymous_learns_nothing_about_which_vms_exist(anonymous):
    for path in (f"/vm/{WEB_1}", "/vm/00000000-0000-0000-0000-000000000000", "/vm/nonsense"):
        assert anonymous.get(path, status=401).json["code"] == 401


def test_the_ui_gets_no_basic_challenge(anonymous):
    response = anonymous.get("/vm", headers={"X-Requested-With": "XMLHttpRequest"}, status=401)
    assert "WWW-Authenticate" not in response.headers


def test_page_and_assets_need_no_login(anonymous):
    assert anonymous.get("/").status_int == 200
    assert anonymous.get("/static/fleet.js").status_int == 200


# -- visibility ---------------------------------------------------------------------------

def test_tenant_sees_only_web_vms(app):
    tenant = client_of(app, "tenant", "tenant")
    assert [vm["name"] for vm in tenant.get("/vm").json] == ["web-1", "web-2"]
    assert [vm["name"] for vm in tenant.get("/vm?detail=1").json] == ["web-1", "web-2"]
    for hidden in (DB_1, BUILD_1):
        assert tenant.get(f"/vm/{hidden}", status=404).json["message"] == \
            f"no VM with UUID {hidden}"
        tenant.post_json(f"/vm/{hidden}/action", {"action": "start"}, status=404)


def test_viewer_reads_but_cannot_act(app, testapp):
    viewer = client_of(app, "viewer", "viewer")
    assert len(viewer.get("/vm").json) == 4
    response = viewer.post_json(f"/vm/{WEB_2}/action", {"action": "start"}, status=403)
    assert "vm:operate" in response.json["message"]
    assert testapp.get(f"/vm/{WEB_2}").json["info"]["state"] == 3


# -- the login session ----------------------------------------------------------------------

def test_login_sets_a_protected_session_cookie(anonymous):
    response = anonymous.post_json("/login", {"username": "viewer", "password": "viewer"})
    assert response.json["user"] == "viewer" and response.json["role"] == "viewer"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("virtdancer_session=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert len(anonymous.get("/vm").json) == 4
    assert anonymous.get("/session").json["user"] == "viewer"


def test_session_cookie_is_secure_by_default():
    app = make_app(**{"virtdancer.session.secure": "true"})
    try:
        response = webtest.TestApp(app).post_json("/login", {"username": "viewer",
                                                             "password": "viewer"})
        assert "; secure" in response.headers["Set-Cookie"].lower()
    finally:
        close_app(app)


def test_wrong_login_is_401_without_a_cookie(anonymous):
    response = anonymous.post_json("/login", {"username": "viewer", "password": "nope"},
                                   status=401)
    assert "Set-Cookie" not in response.headers
    assert "WWW-Authenticate" not in response.headers
    assert anonymous.get("/session").json["user"] is None


def test_login_needs_both_fields(anonymous):
    response = anonymous.post_json("/login", {"username": "viewer"}, status=400)
    assert response.json["errors"][0]["name"] == "password"


def test_cookie_writes_need_the_csrf_header(anonymous, testapp):
    token = log_in(anonymous, "admin", "admin")
    response = anonymous.post_json(f"/vm/{WEB_1}/action", {"action": "pause"}, status=403)
    assert "CSRF" in response.json["message"]
    anonymous.post_json(f"/vm/{WEB_1}/action", {"action": "pause"},
                        headers={"X-CSRF-Token": "forged"}, status=403)
    assert testapp.get(f"/vm/{WEB_1}").json["info"]["state"] == 1
    anonymous.post_json(f"/vm/{WEB_1}/action", {"action": "pause"},
                        headers={"X-CSRF-Token": token})
    assert testapp.get(f"/vm/{WEB_1}").json["info"]["state"] == 3


def test_basic_writes_need_no_csrf_token(testapp):
    testapp.post_json(f"/vm/{WEB_1}/action", {"action": "pause"})


def test_logout_ends_the_session(anonymous):
    token = log_in(anonymous, "viewer", "viewer")
    anonymous.post("/logout", headers={"X-CSRF-Token": token})
    anonymous.get("/vm", status=401)
    assert anonymous.get("/session").json == {"user": None, "role": None, "csrf_token": None,
                                              "events": False}


def test_a_user_removed_from_the_file_loses_the_session(tmp_path):
    users = tmp_path / "users.ini"
    users.write_text(f"[ann]\npassword = {hash_password('pw')}\nrole = viewer\nvms = all\n"
                     f"[bob]\npassword = {hash_password('pw')}\nrole = viewer\nvms = all\n")
    app = make_app(**{"virtdancer.users_file": str(users)})
    try:
        client = webtest.TestApp(app)
        log_in(client, "ann", "pw")
        client.get("/vm")
        users.write_text(f"[bob]\npassword = {hash_password('pw')}\nrole = viewer\nvms = all\n")
        client.get("/vm", status=401)
    finally:
        close_app(app)


def test_a_busy_virtdancer_looks_at_the_users_file_every_check_interval(tmp_path, monkeypatch):
    users = tmp_path / "users.ini"
    both = (f"[ann]\npassword = {hash_password('pw')}\nrole = viewer\nvms = all\n"
            f"[bob]\npassword = {hash_password('pw')}\nrole = viewer\nvms = all\n")
    users.write_text(both)
    stats = []
    stat = os.stat

    def counted(path, *args, **kwargs):
        if str(path) == str(users):
            stats.append(path)
        return stat(path, *args, **kwargs)
    monkeypatch.setattr(os, "stat", counted)
    app = make_app(**{"virtdancer.users_file": str(users),
                      "virtdancer.users_file.check_interval": "0.1"})
    try:
        authenticator = app.registry.getUtility(ISecurityPolicy).authenticator
        now = [100.0]
        authenticator.users.clock = lambda: now[0]
        ann = client_of(app, "ann", "pw")
        ann.get("/vm")
        looked = len(stats)
        for _ in range(5):
            ann.get("/vm")
        assert len(stats) == looked, "no stat within the interval"
        users.write_text(both.split("[bob]")[0].replace("[ann]", "[bob]"))
        ann.get("/vm")   # within the interval: the change is not seen yet
        now[0] += 0.125
        ann.get("/vm", status=401)
        assert len(stats) == looked + 1
    finally:
        close_app(app)


# -- throttling -------------------------------------------------------------------------------

def test_failed_logins_are_throttled_per_user_and_address(app):
    for _ in range(5):
        client_of(app, "viewer", "wrong").get("/vm", status=401)
    # Even the right password waits now, from that address...
    response = client_of(app, "viewer", "viewer").get("/vm", status=429)
    assert int(response.headers["Retry-After"]) > 0
    # ...while the user the guesses aimed at goes on working from their own address.
    client_of(app, "viewer", "viewer", address="198.51.100.7").get("/vm")
    client_of(app, "admin", "admin", address="198.51.100.7").get("/vm")


def test_failed_logins_are_throttled_per_address(app):
    for attempt in range(20):
        client_of(app, f"guess{attempt}", "wrong").get("/vm", status=401)
    client_of(app, "admin", "admin").get("/vm", status=429)
    client_of(app, "admin", "admin", address="198.51.100.7").get("/vm")


def test_login_form_is_throttled_too(anonymous):
    for _ in range(5):
        anonymous.post_json("/login", {"username": "tenant", "password": "x"}, status=401)
    response = anonymous.post_json("/login", {"username": "tenant", "password": "tenant"},
                                   status=429)
    assert response.json["code"] == 429


# -- the first VirtDancer's hashes ----------------------------------------------------------

def test_a_sha512_crypt_hash_is_upgraded_at_the_next_login(tmp_path):
    old_hash = sha512_crypt("fox", "$6$nXfcED59zMkW8FHH")
    users = tmp_path / "users.ini"
    users.write_text(f"# kept as written\n[fox]\npassword = {old_hash}\nrole = operator\n"
                     "prefix = web-\n")
    app = make_app(**{"virtdancer.users_file": str(users)})
    try:
        client_of(app, "fox", "wrong").get("/vm", status=401)
        assert old_hash in users.read_text()
        assert [vm["name"] for vm in client_of(app, "fox", "fox").get("/vm").json] == \
            ["web-1", "web-2"]
        text = users.read_text()
        assert old_hash not in text and "$argon2id$" in text
        assert text.startswith("# kept as written\n[fox]\n")
    finally:
        close_app(app)
    app = make_app(**{"virtdancer.users_file": str(users)})
    try:
        client_of(app, "fox", "fox").get("/vm")
    finally:
        close_app(app)


# -- security headers -----------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/static/fleet.js"])
def test_pages_and_their_files_carry_security_headers(testapp, path):
    headers = testapp.get(path).headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path, status", [("/vm", 200), (f"/vm/{WEB_1}", 200),
                                          ("/vm/00000000-0000-0000-0000-000000000000", 404)])
def test_json_answers_carry_a_policy_that_allows_nothing(testapp, path, status):
    headers = testapp.get(path, status=status).headers
    assert headers["Content-Type"].startswith("application/json")
    assert headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"


# -- refusing to start ------------------------------------------------------------------------

@pytest.mark.parametrize("settings, says", [
    ({"virtdancer.secret": ""}, "virtdancer.secret"),
    ({"virtdancer.secret": "short"}, "virtdancer.secret"),
    ({"virtdancer.users_file": ""}, "virtdancer.users_file is not set"),
    ({"virtdancer.users_file": "/nonexistent/users.ini"}, "No such file"),
])
def test_main_refuses_to_start_with_one_clear_line(capsys, settings, says):
    with pytest.raises(SystemExit) as exit_info:
        make_app(**settings)
    assert exit_info.value.code == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("VirtDancer cannot start:") and says in line


def test_an_empty_users_file_is_refused(tmp_path, capsys):
    empty = tmp_path / "users.ini"
    empty.write_text("# nobody yet\n")
    with pytest.raises(SystemExit):
        make_app(**{"virtdancer.users_file": str(empty)})
    assert "no users" in capsys.readouterr().err


def test_production_ini_refuses_to_start_without_a_secret():
    """`pserve production.ini` as shipped: one line saying what to set, no traceback."""
    pserve = Path(sys.executable).with_name("pserve")
    result = subprocess.run([str(pserve), str(REPO / "production.ini")], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "VirtDancer cannot start: virtdancer.secret" in result.stderr


def test_passwords_and_session_secrets_never_reach_the_log(app, caplog):
    caplog.set_level("DEBUG")
    client = client_of(app)
    client.post_json("/login", {"username": "admin", "password": "hunter2-wrong"}, status=401)
    token = log_in(client, "admin", "admin")
    client_of(app, "viewer", "viewer-wrong-pw").get("/vm", status=401)
    cookie = client.cookies["virtdancer_session"]
    logged = caplog.text
    assert "failed login for user 'admin'" in logged   # failures are logged, by name
    for secret in ("hunter2-wrong", "viewer-wrong-pw", token, cookie):
        assert secret not in logged


def test_a_users_file_has_no_defaults_section(tmp_path, capsys):
    """Keys every user would inherit are refused: they would quietly widen access."""
    users = tmp_path / "users.ini"
    users.write_text(f"[virtdancer: no defaults]\nvms = all\n"
                     f"[ann]\npassword = {hash_password('pw')}\nrole = viewer\n")
    with pytest.raises(SystemExit):
        make_app(**{"virtdancer.users_file": str(users)})
    assert "not a user name" in capsys.readouterr().err


def test_a_copy_of_the_cookie_is_worthless_after_logout(app):
    """Sessions are signed cookies; logging out must still end them for whoever copied one."""
    browser = client_of(app)
    token = log_in(browser, "admin", "admin")
    stolen = browser.cookies["virtdancer_session"]
    browser.post("/logout", headers={"X-CSRF-Token": token})
    thief = client_of(app, address="198.51.100.9")
    thief.set_cookie("virtdancer_session", stolen)
    thief.get("/vm", status=401)
    assert thief.get("/session").json["user"] is None
    # A new login of the same user is a new session, and works.
    log_in(browser, "admin", "admin")
    browser.get("/vm")


def test_the_session_says_whether_the_event_channel_is_offered():
    from pyramid.config import Configurator

    from virtdancer.security.views import events_offered

    def offered(listen, routed):
        config = Configurator(settings={"virtdancer.console.listen": listen})
        if routed:
            config.add_route("virtdancer.events", "/events")
        config.commit()
        return events_offered(config.registry)

    # The page asks for a channel only where one can be given: the route and its asyncio side.
    assert offered("127.0.0.1:7300", routed=True)
    assert not offered("", routed=True)
    assert not offered("127.0.0.1:7300", routed=False)
