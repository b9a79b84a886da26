"""The audit trail on a real QEMU host: a few real actions, by password, session and API token,
are recorded with the right user and VM, and neither the state file nor the audit log holds the
password, the session cookie or the token."""

import logging
import secrets

import pytest
import webtest

from virtdancer.security.passwords import hash_password

from ..conftest import close_app, make_app
from .conftest import URI, domain_names, domain_xml, domstate, remove_domain, virsh

PASSWORD = "h5-real-audit-" + secrets.token_hex(8)


@pytest.fixture
def vm(tmp_path):
    """A tiny shut-off QEMU VM named h5-audit-<random>, removed after the test."""
    name = f"h5-audit-{secrets.token_hex(4)}"
    xml = tmp_path / f"{name}.xml"
    xml.write_text(domain_xml(name))
    try:
        virsh("define", str(xml))
        yield name, virsh("domuuid", name)
    finally:
        remove_domain(name)
    assert name not in domain_names()


@pytest.fixture
def audit_log(tmp_path):
    """The lines logged on `virtdancer.audit` during the test, in a file of their own."""
    path = tmp_path / "audit.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    logger = logging.getLogger("virtdancer.audit")
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    yield path
    logger.removeHandler(handler)
    logger.setLevel(level)
    handler.close()


@pytest.fixture
def app(tmp_path):
    users = tmp_path / "users.ini"
    users.write_text(f"[h5admin]\npassword = {hash_password(PASSWORD)}\nrole = admin\n"
                     "vms = all\n")
    app = make_app(**{"virtdancer.libvirt_uri": URI, "virtdancer.users_file": str(users),
                      "virtdancer.state_file": str(tmp_path / "state.sqlite")})
    yield app
    close_app(app)


def test_real_actions_are_recorded_and_no_secret_is_kept(app, vm, tmp_path, audit_log):
    name, uuid = vm
    basic = webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "198.51.100.5"})
    basic.authorization = ("Basic", ("h5admin", PASSWORD))
    basic.post_json(f"/vm/{uuid}/action", {"action": "start"})
    assert domstate(name) == "running"

    browser = webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "198.51.100.6"})
    csrf = browser.post_json("/login", {"username": "h5admin",
                                        "password": PASSWORD}).json["csrf_token"]
    cookie = browser.cookies["virtdancer_session"]
    browser.post_json(f"/vm/{uuid}/action", {"action": "pause"}, headers={"X-CSRF-Token": csrf})
    assert domstate(name) == "paused"
    token = browser.post_json("/tokens", {"name": "h5-audit", "scope": "admin"},
                              headers={"X-CSRF-Token": csrf}, status=201).json["token"]

    script = webtest.TestApp(app)
    script.authorization = ("Bearer", token)
    script.post_json(f"/vm/{uuid}/action", {"action": "resume"})
    script.post_json(f"/vm/{uuid}/action", {"action": "resume"}, status=409)  # running already
    script.post_json(f"/vm/{uuid}/action", {"action": "destroy"})
    assert domstate(name) == "shut off"
    basic.authorization = ("Basic", ("h5admin", PASSWORD[:-1]))
    basic.get("/vm", status=401)
    browser.post("/logout", headers={"X-CSRF-Token": csrf})

    admin = webtest.TestApp(app)
    admin.authorization = ("Basic", ("h5admin", PASSWORD))
    trail = admin.get("/audit").json["records"]
    assert [(r["action"], r["status"], r["vm"] and r["vm"]["name"]) for r in trail] == [
        ("logout", 200, None), ("login", 401, None), ("vm.destroy", 200, name),
        ("vm.resume", 409, name), ("vm.resume", 200, name), ("token.create", 201, None),
        ("vm.pause", 200, name), ("login", 200, None), ("vm.start", 200, name)]
    assert {r["user"] for r in trail} == {"h5admin"}
    assert trail[3]["error"], "libvirt's refusal is kept"
    assert trail[-1]["client_addr"] == "198.51.100.5"
    assert all(r["vm"]["uuid"] == uuid for r in trail if r["vm"])

    close_app(app)     # every record written, the files closed
    store = b"".join(path.read_bytes() for path in tmp_path.glob("state.sqlite*"))
    logged = audit_log.read_text(encoding="utf-8")
    assert logged.count("\n") == len(trail) and '"action":"vm.destroy"' in logged
    for secret in (PASSWORD, cookie, token, token.rsplit("_", 1)[-1], csrf):
        assert secret.encode() not in store
        assert secret not in logged
