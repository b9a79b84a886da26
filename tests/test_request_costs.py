"""What one authenticated request costs: no class made per request, each libvirt fact asked
once (each libvirt-python call hands the interpreter lock to another thread and back)."""

import collections

import libvirt
import webtest
from pyramid.events import NewRequest
from pyramid.interfaces import IRequestExtensions

from virtdancer.interfaces import IHypervisor

from .conftest import WEB_1


def test_requests_share_one_class_that_has_the_request_properties(app, testapp):
    factory = app.request_factory
    assert {"hosts", "hypervisor", "current_service"} <= set(vars(factory))
    # Nothing is left for Pyramid to apply to each request (it would make a class for it).
    assert not app.registry.getUtility(IRequestExtensions).descriptors
    seen = []
    app.registry.registerHandler(lambda event: seen.append(type(event.request)), (NewRequest,))
    testapp.get(f"/vm/{WEB_1}")
    testapp.get("/vm")
    assert seen == [factory, factory]


def test_the_detail_of_one_vm_asks_libvirt_each_thing_once(app, testapp, monkeypatch):
    hypervisor = app.registry.getUtility(IHypervisor)
    # However slow the machine, the second request comes before the sizes are asked again;
    # however fast, it does not share the first one's answer (see the test below).
    monkeypatch.setattr(hypervisor.devices.cache, "fresh_for", 600)
    monkeypatch.setattr(hypervisor.fleet, "shared_for", 0)
    calls = collections.Counter()
    for name in ("UUIDString", "name", "ID", "info", "isPersistent", "autostart", "XMLDesc",
                 "metadata", "interfaceAddresses", "blockInfo"):
        original = getattr(libvirt.virDomain, name)

        def counted(dom, *args, _original=original, _name=name):
            calls[_name] += 1
            return _original(dom, *args)
        monkeypatch.setattr(libvirt.virDomain, name, counted)
    for name in ("domainListGetStats", "storageVolLookupByPath", "lookupByUUIDString"):
        original = getattr(libvirt.virConnect, name)

        def counted_on_conn(conn, *args, _original=original, _name=name):
            calls[_name] += 1
            return _original(conn, *args)
        monkeypatch.setattr(libvirt.virConnect, name, counted_on_conn)
    testapp.get(f"/vm/{WEB_1}")      # learns that the test driver lacks the stats groups
    assert calls["XMLDesc"] == 1 and calls["storageVolLookupByPath"] == 1
    calls.clear()
    detail = testapp.get(f"/vm/{WEB_1.upper()}").json
    assert detail["uuid"] == WEB_1 and detail["disks"] and detail["nics"][0]["addresses"]
    # The URL's UUID is not asked again; the driver's missing stats groups are not asked again;
    # the domain's handle, name and ID, persistence, description and devices are kept until an
    # event (or VirtDancer) changes them, volumes and addresses for a couple of seconds
    # (device_cache.FRESH_FOR). What is left is what changes all the time, and autostart,
    # which libvirt announces by no event.
    assert calls == {"info": 1, "autostart": 1}


def count_info_calls(monkeypatch):
    calls = []
    original = libvirt.virDomain.info

    def counted(dom):
        calls.append(dom.name())
        return original(dom)
    monkeypatch.setattr(libvirt.virDomain, "info", counted)
    return calls


def test_requests_close_together_share_one_answer_until_the_vm_changes(app, testapp,
                                                                       monkeypatch):
    fleet = app.registry.getUtility(IHypervisor).fleet
    now = [1000.0]
    monkeypatch.setattr(fleet, "clock", lambda: now[0])
    calls = count_info_calls(monkeypatch)
    first = testapp.get(f"/vm/{WEB_1}").json
    now[0] += fleet.shared_for / 2
    assert testapp.get(f"/vm/{WEB_1}").json == first
    assert calls == ["web-1"], "the second request shared the first one's answer"
    now[0] += fleet.shared_for
    testapp.get(f"/vm/{WEB_1}")
    assert calls == ["web-1"] * 2, "an answer is shared only for a moment"
    # A change of the VM drops the shared answer at once, even within the moment.
    paused = testapp.post_json(f"/vm/{WEB_1}/action", {"action": "pause"}).json["vm"]
    assert paused["state_name"] == "paused"
    assert testapp.get(f"/vm/{WEB_1}").json["state_name"] == "paused"
    testapp.post_json(f"/vm/{WEB_1}/action", {"action": "resume"})
    assert testapp.get(f"/vm/{WEB_1}").json["state_name"] == "running"
    before = len(calls)
    # Within the moment of the last GET: the edit's own answer is the VM as it is now.
    edited = testapp.patch_json(f"/vm/{WEB_1}", {"description": "shared no more"}).json
    assert edited["description"] == "shared no more"
    assert testapp.get(f"/vm/{WEB_1}").json["description"] == "shared no more"
    assert len(calls) > before


def test_acl_decisions_and_cookie_parses_are_made_once(app, monkeypatch):
    from pyramid.authorization import ACLHelper

    import virtdancer.security.session_cookies as session_cookies

    decisions, parses = [], []
    permits = ACLHelper.permits
    monkeypatch.setattr(ACLHelper, "permits",
                        lambda helper, *args: decisions.append(args[2]) or permits(helper, *args))
    parse = session_cookies.RequestCookies.items
    monkeypatch.setattr(session_cookies.RequestCookies, "items",
                        lambda cookies: parses.append(1) or parse(cookies))
    session_cookies._parsed.cache_clear()
    browser = webtest.TestApp(app)
    browser.post_json("/login", {"username": "admin", "password": "admin"})
    for _ in range(3):
        assert browser.get(f"/vm/{WEB_1}").json["actions"], "the admin's actions are offered"
    # READ for the view and OPERATE for its actions: each decided once for this user.
    assert sorted(map(str, set(decisions))) == sorted(map(str, decisions))
    assert len(parses) == 1, "one Cookie header, parsed once"
    # Another user's cookie is another header: parsed, and decided, on its own.
    other = webtest.TestApp(app)
    other.post_json("/login", {"username": "viewer", "password": "viewer"})
    assert other.get(f"/vm/{WEB_1}").json["actions"] == []
    assert len(parses) == 2
