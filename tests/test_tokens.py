"""API tokens: made, listed and revoked at /tokens; `Authorization: Bearer` for scripts."""

import logging
import re
import sqlite3
import time
from pathlib import Path

import pytest
import webtest
from jsonschema import Draft202012Validator, ValidationError

from virtdancer import cli
from virtdancer.accesslog import AccessLog
from virtdancer.answers import NewTokenAnswer, RevokedTokenAnswer, TokenAnswer
from virtdancer.answers import TokenList as TokenListAnswer
from virtdancer.interfaces import IApiTokens
from virtdancer.openapi.json_schema import json_schema
from virtdancer.security.tokens import LAST_USED_RESOLUTION

from .conftest import DB_1, DEMO_URI, DEMO_USERS, LAB_URI, WEB_1, close_app, make_app

DEMO_USERS_TEXT = Path(DEMO_USERS).read_text()


def conforms(schema, body):
    """`body`, once it is known to match the JSON Schema of the answer schema `schema`."""
    Draft202012Validator(json_schema(schema)).validate(body)
    return body


@pytest.fixture
def users_file(tmp_path):
    """A copy of the demo users file that a test may edit."""
    path = tmp_path / "users.ini"
    path.write_text(DEMO_USERS_TEXT)
    return path


@pytest.fixture
def app_settings(users_file):
    return {"virtdancer.libvirt_uri": DEMO_URI, "virtdancer.users_file": str(users_file)}


def client(app, user=None):
    """A WebTest client; with HTTP Basic as `user` (whose password is their name)."""
    test_client = webtest.TestApp(app)
    if user is not None:
        test_client.authorization = ("Basic", (user, user))
    return test_client


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def make_token(app, user, **body):
    answer = client(app, user).post_json("/tokens", {"name": "script", **body}, status=201)
    conforms(NewTokenAnswer(), answer.json)
    return answer.json


def refused(response, message):
    """A 401 in VirtDancer's error shape with a Bearer challenge, saying `message`."""
    assert response.status_int == 401
    assert response.content_type == "application/json"
    assert response.json["code"] == 401
    assert response.json["errors"][0]["name"] == "Authorization"
    assert re.search(message, response.json["message"]), response.json["message"]
    assert response.headers["WWW-Authenticate"] == \
        'Bearer realm="VirtDancer", error="invalid_token"'


# -- making, listing, revoking ----------------------------------------------------------------

def test_a_token_is_answered_once_and_then_listed_without_its_secret(app):
    made = make_token(app, "tenant", name="prometheus")
    assert re.fullmatch(r"vd_[0-9a-f]{12}_[0-9a-f]{64}", made["token"])
    assert made["token"].split("_")[1] == made["id"]
    assert (made["owner"], made["name"], made["scope"]) == ("tenant", "prometheus", "read")
    assert made["expires"] is None and made["last_used"] is None
    assert abs(made["created"] - time.time()) < 60

    listed = client(app, "tenant").get("/tokens").json
    conforms(TokenListAnswer(), listed)
    assert listed == [{key: made[key] for key in (child.name for child in TokenAnswer().children)}]
    assert made["token"].split("_")[2] not in client(app, "tenant").get("/tokens").text
    shown = client(app, "tenant").get(f"/tokens/{made['id']}").json
    assert conforms(TokenAnswer(), shown)["name"] == "prometheus"


def test_the_location_of_a_new_token_is_its_url(app):
    answer = client(app, "viewer").post_json("/tokens", {"name": "grafana"}, status=201)
    assert answer.headers["Location"].endswith(f"/tokens/{answer.json['id']}")


def test_the_store_keeps_only_a_hash_of_the_secret(app):
    made = make_token(app, "admin", scope="admin")
    store = app.registry.getUtility(IApiTokens).store
    [row] = store.execute("SELECT * FROM tokens")
    secret = made["token"].split("_")[2]
    assert not any(secret in str(column) or (isinstance(column, bytes)
                                             and secret.encode() in column) for column in row)
    import hashlib
    assert hashlib.sha256(secret.encode()).digest() in row


def test_revoking_stops_the_token_at_once(app):
    made = make_token(app, "tenant")
    script = client(app)
    assert script.get("/vm", headers=bearer(made["token"])).status_int == 200
    answer = client(app, "tenant").delete(f"/tokens/{made['id']}")
    assert conforms(RevokedTokenAnswer(), answer.json) == {"result": "revoked",
                                                              "id": made["id"]}
    refused(script.get("/vm", headers=bearer(made["token"]), expect_errors=True),
            "unknown or revoked")
    assert client(app, "tenant").get("/tokens").json == []
    client(app, "tenant").delete(f"/tokens/{made['id']}", status=404)


def test_users_see_and_revoke_their_own_tokens_admins_everyones(app):
    tenants = make_token(app, "tenant", name="tenant's")
    admins = make_token(app, "admin", name="admin's")
    viewers = make_token(app, "viewer", name="viewer's")
    assert [token["name"] for token in client(app, "tenant").get("/tokens").json] == \
        ["tenant's"]
    everyone = client(app, "admin").get("/tokens").json
    assert {(token["owner"], token["name"]) for token in everyone} == {
        ("tenant", "tenant's"), ("admin", "admin's"), ("viewer", "viewer's")}
    # Another user's token does not exist for a user who may not see it.
    for method in ("get", "delete"):
        answer = getattr(client(app, "tenant"), method)(f"/tokens/{admins['id']}", status=404)
        assert answer.json["code"] == 404
    client(app, "admin").get(f"/tokens/{admins['id']}", headers=bearer(viewers["token"]),
                             status=404)
    client(app, "admin").delete(f"/tokens/{tenants['id']}", status=200)
    client(app).get("/vm", headers=bearer(tenants["token"]), status=401)
    client(app).get("/vm", headers=bearer(admins["token"]), status=200)


def test_a_name_is_unique_among_a_users_tokens(app):
    make_token(app, "tenant", name="backup")
    answer = client(app, "tenant").post_json("/tokens", {"name": "backup"}, status=409)
    assert answer.json["errors"][0]["name"] == "name"
    make_token(app, "viewer", name="backup")    # another user's may have it


def test_anonymous_requests_get_401(anonymous, app):
    made = make_token(app, "admin")
    for method, path in (("get", "/tokens"), ("post", "/tokens"),
                         ("delete", f"/tokens/{made['id']}"), ("get", "/tokens/nosuch")):
        answer = getattr(anonymous, method)(path, status=401)
        assert answer.json["code"] == 401


# -- permissions: scope ∩ role --------------------------------------------------------------

@pytest.mark.parametrize(("user", "scope", "status"), [
    ("viewer", "read", 201), ("viewer", "operate", 403), ("viewer", "admin", 403),
    ("tenant", "operate", 201), ("tenant", "admin", 403), ("admin", "admin", 201),
])
def test_a_token_has_at_most_the_users_role(app, user, scope, status):
    answer = client(app, user).post_json("/tokens", {"name": "t", "scope": scope},
                                         status=status)
    if status == 403:
        assert answer.json["errors"][0]["name"] == "scope"
        assert scope in answer.json["message"]


def test_a_tokens_scope_narrows_its_users_role(app):
    read = make_token(app, "admin", name="read", scope="read")
    operate = make_token(app, "admin", name="operate", scope="operate")
    script = client(app)
    answer = script.post_json(f"/vm/{WEB_1}/action", {"action": "pause"},
                              headers=bearer(read["token"]), status=403)
    assert "with this API token" in answer.json["message"]
    script.post_json(f"/vm/{WEB_1}/action", {"action": "pause"},
                     headers=bearer(operate["token"]), status=200)
    # An admin's read token sees the admin's own tokens only, as any viewer would.
    make_token(app, "tenant", name="tenant's")
    listed = script.get("/tokens", headers=bearer(read["token"])).json
    assert {token["owner"] for token in listed} == {"admin"}


def test_a_role_lowered_in_the_users_file_lowers_the_token(app, users_file):
    made = make_token(app, "tenant", scope="operate")
    script = client(app)
    script.post_json(f"/vm/{WEB_1}/action", {"action": "pause"},
                     headers=bearer(made["token"]), status=200)
    users_file.write_text(DEMO_USERS_TEXT.replace("role = operator", "role = viewer"))
    script.post_json(f"/vm/{WEB_1}/action", {"action": "resume"},
                     headers=bearer(made["token"]), status=403)
    assert script.get(f"/vm/{WEB_1}", headers=bearer(made["token"])).status_int == 200


def test_a_token_cannot_make_tokens(app):
    made = make_token(app, "admin", scope="admin")
    answer = client(app).post_json("/tokens", {"name": "child", "scope": "read"},
                                   headers=bearer(made["token"]), status=403)
    assert "cannot make API tokens" in answer.json["message"]
    assert [token["name"] for token in client(app, "admin").get("/tokens").json] == ["script"]


def test_a_session_makes_tokens_with_its_csrf_token(app):
    browser = client(app)
    csrf = browser.post_json("/login", {"username": "viewer", "password": "viewer"}) \
        .json["csrf_token"]
    browser.post_json("/tokens", {"name": "no csrf"}, status=403)
    made = browser.post_json("/tokens", {"name": "page"}, headers={"X-CSRF-Token": csrf},
                             status=201).json
    browser.delete(f"/tokens/{made['id']}", status=403)
    browser.delete(f"/tokens/{made['id']}", headers={"X-CSRF-Token": csrf}, status=200)


def test_bearer_writes_need_no_csrf_token_but_the_origin_rule_holds(app):
    made = make_token(app, "tenant", scope="operate")
    script = client(app)
    script.post_json(f"/vm/{WEB_1}/action", {"action": "pause"},
                     headers=bearer(made["token"]), status=200)
    answer = script.post_json(f"/vm/{WEB_1}/action", {"action": "resume"},
                              headers={**bearer(made["token"]),
                                       "Origin": "https://evil.example"}, status=403)
    assert answer.json["errors"][0]["name"] == "Origin"


# -- filters and users, asked at every request ---------------------------------------------

def test_the_users_vm_filters_apply_to_the_token(app):
    made = make_token(app, "tenant")
    script = client(app)
    names = {vm["name"] for vm in script.get("/vm", headers=bearer(made["token"])).json}
    assert names == {"web-1", "web-2"}
    script.get(f"/vm/{DB_1}", headers=bearer(made["token"]), status=404)


def test_the_users_hosts_apply_to_the_token(users_file):
    users_file.write_text(DEMO_USERS_TEXT.replace("prefix = web-", "prefix = web-\nhosts = lab"))
    app = make_app(**{"virtdancer.hosts": f"demo = {DEMO_URI}\nlab = {LAB_URI}",
                      "virtdancer.users_file": str(users_file)})
    try:
        made = make_token(app, "tenant")
        script = client(app)
        hosts = script.get("/hosts", headers=bearer(made["token"])).json
        assert [host["name"] for host in hosts] == ["lab"]
        script.get("/hosts/demo", headers=bearer(made["token"]), status=404)
    finally:
        close_app(app)


def test_a_user_removed_from_the_users_file_loses_their_tokens_at_the_next_request(
        app, users_file):
    made = make_token(app, "tenant")
    script = client(app)
    script.get("/vm", headers=bearer(made["token"]), status=200)
    users_file.write_text(DEMO_USERS_TEXT.split("[tenant]")[0])
    refused(script.get("/vm", headers=bearer(made["token"]), expect_errors=True),
            "no longer in the users file")


def test_an_expired_token_is_refused(app):
    service = app.registry.getUtility(IApiTokens)
    made = make_token(app, "tenant", expires=time.time() + 60)
    script = client(app)
    script.get("/vm", headers=bearer(made["token"]), status=200)
    service.clock = lambda: time.time() + 61
    refused(script.get("/vm", headers=bearer(made["token"]), expect_errors=True), "expired")


def test_expires_may_be_iso_8601(app):
    made = make_token(app, "tenant", expires="2100-01-01T00:00:00Z")
    assert made["expires"] == 4102444800.0
    made = make_token(app, "tenant", name="later", expires="2100-01-01T01:00:00+01:00")
    assert made["expires"] == 4102444800.0


def test_last_used_is_written_to_the_minute(app):
    service = app.registry.getUtility(IApiTokens)
    made = make_token(app, "tenant")
    client(app).get("/vm", headers=bearer(made["token"]))
    first = service.record(made["id"]).last_used
    assert first is not None and abs(first - time.time()) < 60
    client(app).get("/vm", headers=bearer(made["token"]))
    assert service.record(made["id"]).last_used == first     # not a write per request
    later = time.time() + LAST_USED_RESOLUTION + 1
    service.clock = lambda: later
    client(app).get("/vm", headers=bearer(made["token"]))
    assert service.record(made["id"]).last_used == later


def test_a_token_costs_no_password_check(app, monkeypatch):
    made = make_token(app, "tenant")
    checks = []
    monkeypatch.setattr("virtdancer.security.policy.check_password",
                        lambda *args: checks.append(args))
    for _ in range(5):
        client(app).get("/vm", headers=bearer(made["token"]), status=200)
    assert checks == []


def test_a_good_tokens_row_is_read_once_a_second(app, monkeypatch):
    service = app.registry.getUtility(IApiTokens)
    made = make_token(app, "tenant")
    now = [500.0]
    monkeypatch.setattr(service, "monotonic", lambda: now[0])
    reads = []
    execute = service.store.execute

    def counted(sql, *args, **kwargs):
        reads.append(sql.split()[0])
        return execute(sql, *args, **kwargs)
    monkeypatch.setattr(service.store, "execute", counted)
    script = client(app)
    for _ in range(5):
        script.get("/vm", headers=bearer(made["token"]), status=200)
    assert reads.count("SELECT") == 1
    now[0] += service.row_kept_for
    script.get("/vm", headers=bearer(made["token"]), status=200)
    assert reads.count("SELECT") == 2
    # A wrong secret with a good id is refused from the kept row all the same.
    wrong = made["token"][:-4] + ("0000" if not made["token"].endswith("0000") else "1111")
    refused(script.get("/vm", headers=bearer(wrong), expect_errors=True), "unknown or revoked")


def test_a_revocation_here_counts_at_once_and_one_by_another_process_within_a_second(
        tmp_path, app_settings, monkeypatch):
    app = make_app(**app_settings,
                   **{"virtdancer.state_file": str(tmp_path / "state.sqlite")})
    try:
        service = app.registry.getUtility(IApiTokens)
        now = [500.0]
        monkeypatch.setattr(service, "monotonic", lambda: now[0])
        here, there = make_token(app, "tenant"), make_token(app, "tenant", name="other")
        script = client(app)
        for made in (here, there):
            script.get("/vm", headers=bearer(made["token"]), status=200)
        client(app, "tenant").delete(f"/tokens/{here['id']}")
        refused(script.get("/vm", headers=bearer(here["token"]), expect_errors=True),
                "unknown or revoked")
        # The command line's revocation, another process writing the same state file.
        with sqlite3.connect(tmp_path / "state.sqlite") as other_process:
            other_process.execute("DELETE FROM tokens WHERE id = ?", (there["id"],))
        other_process.close()
        script.get("/vm", headers=bearer(there["token"]), status=200)
        now[0] += service.row_kept_for
        refused(script.get("/vm", headers=bearer(there["token"]), expect_errors=True),
                "unknown or revoked")
    finally:
        close_app(app)


# -- malformed and wrong tokens ---------------------------------------------------------------

@pytest.mark.parametrize("authorization", [
    "Bearer", "Bearer ", "bearer", "Bearer vd_", "Bearer vd_zz_zz", "Bearer a b c",
    "Bearer vd_0123456789ab_" + "0" * 63, "Bearer vd_0123456789ab_" + "0" * 64 + "\n",
    "Bearer vd_0123456789AB_" + "0" * 64, "Bearer " + "x" * 20000, "Bearer \xff\xfe",
    "Bearer vd_0123456789ab_" + "0" * 64,
])
def test_a_malformed_or_unknown_token_is_a_401_in_json(app, authorization):
    answer = client(app).get("/vm", headers={"Authorization": authorization},
                             expect_errors=True)
    refused(answer, "not a VirtDancer API token|unknown or revoked")
    assert "x" * 200 not in answer.text


def test_a_token_with_a_wrong_secret_is_refused(app):
    made = make_token(app, "tenant")
    wrong = made["token"][:-1] + ("0" if made["token"][-1] != "0" else "1")
    refused(client(app).get("/vm", headers=bearer(wrong), expect_errors=True),
            "unknown or revoked")


@pytest.mark.parametrize("path", ["/tokens/nosuch", f"/vm/{WEB_1[:-1]}0", "/hosts/nosuch"])
def test_a_refused_token_on_a_missing_resource_is_a_401_not_a_404(app, path):
    answer = client(app).get(path, headers=bearer("vd_nope"), expect_errors=True)
    refused(answer, "not a VirtDancer API token")


# -- bodies ---------------------------------------------------------------------------------

# Bodies VirtDancer refuses with a 400, each for the field it names.
WRONG_BODIES = [
    ({}, "name"),
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 101}, "name"),
    ({"name": "new\nline"}, "name"),
    ({"name": 12}, "name"),
    ({"name": "t", "scope": "root"}, "scope"),
    ({"name": "t", "scope": ""}, "scope"),
    ({"name": "t", "expires": "soon"}, "expires"),
    ({"name": "t", "expires": ""}, "expires"),
    ({"name": "t", "expires": True}, "expires"),
    ({"name": "t", "expires": 1e300}, "expires"),
    ({"name": "t", "expires": [1]}, "expires"),
]


@pytest.mark.parametrize(("body", "field"), WRONG_BODIES)
def test_a_wrong_body_is_a_400_in_the_one_error_shape(app, body, field):
    answer = client(app, "admin").post_json("/tokens", body, status=400)
    assert answer.json["status"] == "error" and answer.json["code"] == 400
    assert answer.json["message"]
    assert {(error["location"], error["name"]) for error in answer.json["errors"]} == \
        {("body", field)}
    assert client(app, "admin").get("/tokens").json == []


def token_body_schema(app, content_type="application/json"):
    document = client(app).get("/openapi.json").json
    content = document["paths"]["/tokens"]["post"]["requestBody"]["content"]
    return Draft202012Validator(content[content_type]["schema"],
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


@pytest.mark.parametrize(("body", "field"), WRONG_BODIES)
def test_the_document_calls_every_body_the_view_refuses_invalid(app, body, field):
    """schemathesis found bodies the document allowed and the view refused (a blank name, an
    empty expires), and the reverse (an empty scope taken for a left-out one)."""
    errors = list(token_body_schema(app).iter_errors(body))
    assert errors, f"the document allows {body!r}, which the view refuses"


# schemathesis: a form's `expires=0690-09-03T18:34:01-18:42` was a 400, "before the year 10000".
@pytest.mark.parametrize("expires", [1, 946684800, "2001-01-01T00:00:00Z",
                                     "0690-09-03T18:34:01-18:42"])
def test_an_expiry_in_the_past_is_a_409(app, expires):
    """The document cannot say "later than now": such a body is well-formed (schemathesis
    sent it as valid input) and refused for the moment it is sent, as a name taken is."""
    body = {"name": "t", "expires": expires}
    assert token_body_schema(app).is_valid(body)
    answer = client(app, "admin").post_json("/tokens", body, status=409)
    assert [(error["location"], error["name"]) for error in answer.json["errors"]] == \
        [("body", "expires")]
    assert "past" in answer.json["message"]
    assert client(app, "admin").get("/tokens").json == []


@pytest.mark.parametrize("expires", ["2100-01-01T00:00:00Z", "2100-01-01t00:00:00z",
                                     "2100-01-01T00:00:00.000000001+00:00"])
def test_every_rfc_3339_time_the_document_allows_is_taken(app, expires):
    """The document says date-time (RFC 3339), which allows a lower-case t and z."""
    assert token_body_schema(app).is_valid({"name": "t", "expires": expires})
    assert make_token(app, "tenant", expires=expires)["expires"] == 4102444800.0


def test_the_document_ends_expiries_where_the_view_does(app):
    """schemathesis: the document's `maximum` let in 10000-01-01T00:00:00Z, which the view
    refuses; the bound is exclusive in both."""
    schema = token_body_schema(app)
    client(app, "tenant").post_json("/tokens", {"name": "t", "expires": 253402300800.0},
                                    status=400)
    assert not schema.is_valid({"name": "t", "expires": 253402300800.0})
    assert make_token(app, "tenant", expires=253402300799.0)["expires"] == 253402300799.0


def test_a_form_says_expires_as_text_only(app):
    """schemathesis sent the form field `expires=null`, which the document's shared schema (a
    number, text or null) allowed: a form's fields are text, so its schema says only that."""
    form = token_body_schema(app, "application/x-www-form-urlencoded")
    assert not form.is_valid({"name": "t", "expires": None})
    assert not form.is_valid({"name": "t", "expires": 4102444800})
    assert form.is_valid({"name": "t", "expires": "2100-01-01T00:00:00Z"})
    answer = client(app, "tenant").post("/tokens", {"name": "t",
                                                    "expires": "2100-01-01T00:00:00Z"},
                                        status=201)
    assert answer.json["expires"] == 4102444800.0
    client(app, "tenant").post("/tokens", {"name": "u", "expires": "null"}, status=400)


def test_an_empty_form_field_is_refused_not_taken_for_a_left_out_one(app):
    """schemathesis: a form's `scope=` made a read token, though "" is no scope."""
    answer = client(app, "admin").post("/tokens", {"name": "t", "scope": ""}, status=400)
    assert answer.json["errors"][0]["name"] == "scope"


@pytest.mark.parametrize("body", ["[]", "not json", '"name"'])
def test_a_body_that_is_no_object_is_a_400(app, body):
    answer = client(app, "admin").post("/tokens", body, content_type="application/json",
                                       status=400)
    assert answer.json["code"] == 400


def test_a_user_has_a_bounded_number_of_tokens(app, monkeypatch):
    monkeypatch.setattr("virtdancer.security.tokens.MAX_TOKENS_PER_USER", 2)
    make_token(app, "tenant", name="one")
    make_token(app, "tenant", name="two")
    answer = client(app, "tenant").post_json("/tokens", {"name": "three"}, status=409)
    assert "revoke some" in answer.json["message"]


# -- never logged, never throttled against the password --------------------------------------

class Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage() + repr(getattr(record, "access", "")))


def test_a_token_is_never_logged(app):
    records = Records()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(records)
    root.setLevel(logging.DEBUG)
    try:
        logged = webtest.TestApp(AccessLog(app))
        made = make_token(app, "tenant", scope="operate")
        secret = made["token"].split("_")[2]
        wrong = made["token"][:-4] + "beef"
        answers = [
            logged.get("/vm", headers=bearer(made["token"])),
            logged.get(f"/vm/{DB_1}", headers=bearer(made["token"]), expect_errors=True),
            logged.put("/tokens", headers=bearer(made["token"]), expect_errors=True),
            logged.post_json("/tokens", {"name": made["token"] + "x" * 100},
                             headers=bearer(made["token"]), expect_errors=True),
            logged.get("/vm", headers=bearer(wrong), expect_errors=True),
            logged.get("/vm", headers=bearer(made["token"] + "0"), expect_errors=True),
        ]
    finally:
        root.removeHandler(records)
        root.setLevel(old_level)
    assert any("refused" in line for line in records.lines)     # refusals are logged...
    assert any('"GET /vm"' in line for line in records.lines)   # ...and so is every request
    for line in records.lines:
        assert secret not in line and wrong.split("_")[2] not in line
    for answer in answers:
        assert secret not in answer.text


@pytest.fixture
def strict_limits(users_file):
    return {"virtdancer.libvirt_uri": DEMO_URI, "virtdancer.users_file": str(users_file),
            "virtdancer.tokens.max_failures_per_address": "3",
            "virtdancer.login.max_failures_per_user": "2"}


def test_bad_tokens_are_bounded_per_address_and_never_lock_the_password(strict_limits):
    app = make_app(**strict_limits)
    try:
        made = make_token(app, "tenant")
        wrong = made["token"][:-4] + ("beef" if not made["token"].endswith("beef") else "cafe")
        statuses = [client(app).get("/vm", headers=bearer(wrong), expect_errors=True)
                    .status_int for _ in range(6)]
        assert statuses == [401, 401, 401, 429, 429, 429]
        answer = client(app).get("/vm", headers=bearer(wrong), expect_errors=True)
        assert int(answer.headers["Retry-After"]) > 0
        # Neither the user's password nor their good token is held against the bad ones.
        client(app, "tenant").get("/vm", status=200)
        client(app).post_json("/login", {"username": "tenant", "password": "tenant"},
                              status=200)
        client(app).get("/vm", headers=bearer(made["token"]), status=200)
    finally:
        close_app(app)


def test_failed_passwords_never_lock_the_users_tokens(strict_limits):
    app = make_app(**strict_limits)
    try:
        made = make_token(app, "tenant")
        guesser = webtest.TestApp(app)
        guesser.authorization = ("Basic", ("tenant", "wrong"))
        statuses = [guesser.get("/vm", expect_errors=True).status_int for _ in range(4)]
        assert statuses[-1] == 429
        client(app).get("/vm", headers=bearer(made["token"]), status=200)
    finally:
        close_app(app)


# -- kept in the state file ---------------------------------------------------------------

def test_tokens_survive_a_new_app_on_the_same_state_file(tmp_path, app_settings):
    settings = {**app_settings, "virtdancer.state_file": str(tmp_path / "state.sqlite")}
    first = make_app(**settings)
    try:
        made = make_token(first, "tenant")
        revoked = make_token(first, "tenant", name="revoked")
        client(first, "tenant").delete(f"/tokens/{revoked['id']}")
    finally:
        close_app(first)
    second = make_app(**settings)
    try:
        client(second).get("/vm", headers=bearer(made["token"]), status=200)
        client(second).get("/vm", headers=bearer(revoked["token"]), status=401)
        assert [token["id"] for token in client(second, "tenant").get("/tokens").json] == \
            [made["id"]]
    finally:
        close_app(second)


def test_without_a_state_file_tokens_live_in_memory(app_settings):
    apps = [make_app(**app_settings) for _ in range(2)]
    try:
        made = make_token(apps[0], "tenant")
        client(apps[1]).get("/vm", headers=bearer(made["token"]), status=401)
    finally:
        for one in apps:
            close_app(one)


def test_a_state_file_in_a_missing_folder_is_one_line(capsys, tmp_path):
    with pytest.raises(SystemExit):
        make_app(**{"virtdancer.state_file": str(tmp_path / "nowhere" / "state.sqlite")})
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("VirtDancer cannot start: virtdancer.state_file = ")
    assert "does not exist" in line


def test_a_state_file_of_a_newer_virtdancer_is_refused(capsys, tmp_path):
    path = tmp_path / "state.sqlite"
    with sqlite3.connect(path) as database:
        database.execute("PRAGMA user_version = 999")
    with pytest.raises(SystemExit):
        make_app(**{"virtdancer.state_file": str(path)})
    assert "written by a newer VirtDancer" in capsys.readouterr().err


# -- the command -------------------------------------------------------------------------

@pytest.fixture
def ini(tmp_path, users_file):
    path = tmp_path / "virtdancer.ini"
    path.write_text(f"[app:main]\nuse = egg:virtdancer\nvirtdancer.libvirt_uri = {DEMO_URI}\n"
                    f"virtdancer.users_file = {users_file}\n"
                    f"virtdancer.state_file = %(here)s/state.sqlite\n")
    return path


def test_the_command_makes_a_token_the_app_takes(ini, users_file, tmp_path, capsys):
    assert cli.main(["token", "create", str(ini), "tenant", "prometheus",
                     "--expires", "30d"]) == 0
    out, err = capsys.readouterr()
    token = out.strip()
    assert re.fullmatch(r"vd_[0-9a-f]{12}_[0-9a-f]{64}", token)
    assert "shown this once" in err and token not in err
    app = make_app(**{"virtdancer.users_file": str(users_file),
                      "virtdancer.state_file": str(tmp_path / "state.sqlite")})
    try:
        client(app).get("/vm", headers=bearer(token), status=200)
        [listed] = client(app, "tenant").get("/tokens").json
        assert (listed["name"], listed["scope"]) == ("prometheus", "read")
        assert 29 * 86400 < listed["expires"] - time.time() <= 30 * 86400
    finally:
        close_app(app)
    assert cli.main(["token", "list", str(ini)]) == 0
    assert "prometheus" in capsys.readouterr().out
    assert cli.main(["token", "revoke", str(ini), token.split("_")[1]]) == 0
    assert cli.main(["token", "revoke", str(ini), token.split("_")[1]]) == 2


@pytest.mark.parametrize(("arguments", "says"), [
    (["viewer", "t", "--scope", "operate"], "may have tokens of scope read, not operate"),
    (["nobody", "t"], "nobody is not in the users file"),
    (["tenant", "t", "--expires", "2001-01-01"], "--expires is in the past"),
    (["tenant", "t", "--expires", "soon"], "--expires soon is not a Unix time"),
    (["tenant", "   "], "name Shorter than minimum length 1"),
])
def test_the_command_refuses_in_one_line(ini, capsys, arguments, says):
    assert cli.main(["token", "create", str(ini), *arguments]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert says in err and len(err.splitlines()) == 1


def test_the_command_needs_a_state_file(tmp_path, users_file, capsys):
    path = tmp_path / "memory.ini"
    path.write_text(f"[app:main]\nuse = egg:virtdancer\nvirtdancer.users_file = {users_file}\n")
    assert cli.main(["token", "create", str(path), "tenant", "t"]) == 2
    assert "virtdancer.state_file is not set" in capsys.readouterr().err


def test_schemas_refuse_an_answer_they_do_not_declare():
    answer = {"id": "0123456789ab", "owner": "a", "name": "n", "scope": "read",
              "created": 1.0, "last_used": None, "expires": None}
    conforms(TokenAnswer(), answer)
    with pytest.raises(ValidationError):
        conforms(TokenAnswer(), {**answer, "token": "vd_..."})


# -- from the review of the tokens' first version -----------------------------------------------

def test_a_token_revokes_itself_but_never_another_of_its_users_tokens(app):
    """A read-only token that leaked must not revoke every token of its user."""
    reader = make_token(app, "admin", scope="read")
    full = client(app, "admin").post_json("/tokens", {"name": "full", "scope": "admin"}).json
    anonymous = webtest.TestApp(app)
    refused = anonymous.delete(f"/tokens/{full['id']}", headers=bearer(reader["token"]),
                               status=403)
    assert "only itself" in refused.json["message"]
    anonymous.get("/vm", headers=bearer(full["token"]), status=200)
    anonymous.delete(f"/tokens/{reader['id']}", headers=bearer(reader["token"]), status=200)
    anonymous.get("/vm", headers=bearer(reader["token"]), status=401)


def test_a_busy_state_file_neither_fails_a_good_token_nor_stalls_it(tmp_path, app_settings):
    """Another process writing the state file (the CLI, a second server) holds its lock: the
    token's `last_used` is then not written, and the request goes on at once."""
    import sqlite3

    path = tmp_path / "state.sqlite"
    app = make_app(**app_settings, **{"virtdancer.state_file": str(path)})
    try:
        made = make_token(app, "viewer")
        other = sqlite3.connect(str(path), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            started = time.monotonic()
            webtest.TestApp(app).get("/vm", headers=bearer(made["token"]), status=200)
            assert time.monotonic() - started < 2
        finally:
            other.execute("ROLLBACK")
            other.close()
    finally:
        close_app(app)
