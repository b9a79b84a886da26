"""What one authenticated request costs: no class made per request, each libvirt fact asked
once (each libvirt-python call hands the interpreter lock to another thread and back)."""

import collections

import libvirt
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
    # However slow the machine, the second request comes before the sizes are asked again.
    monkeypatch.setattr(app.registry.getUtility(IHypervisor).devices.cache, "fresh_for", 600)
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
