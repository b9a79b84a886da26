"""A VM's devices are kept between requests, and never shown stale: read again when libvirt
says the VM changed (whoever changed it), when VirtDancer changes it, after a reconnection, and
(volumes and addresses) once older than the cache's `fresh_for`."""

import threading
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import libvirt
import pytest

from virtdancer.hypervisor.device_cache import DeviceCache, DeviceEntry
from virtdancer.hypervisor.events import CHANGE_EVENTS, OTHER_EVENTS, DomainEvent, HostEvent
from virtdancer.hypervisor.fleet import DomainRef
from virtdancer.hypervisor.known_domains import KnownDomains

from .conftest import DB_1, WEB_1

NEW_DISK = ("<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
            "<source file='/var/lib/libvirt/images/h1-extra.img'/>"
            "<target dev='vdb' bus='virtio'/></disk>")


class FakeHost:
    def __init__(self, change_events=True):
        self.change_events_supported = self.events_supported = change_events
        self.listeners = []

    def add_listener(self, listener):
        self.listeners.append(listener)


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def counting(monkeypatch, cls, name):
    calls = []
    original = getattr(cls, name)

    def counted(self, *args):
        calls.append(args)
        return original(self, *args)
    monkeypatch.setattr(cls, name, counted)
    return calls


def wait_until(condition, timeout=5.0):
    """Wait (bounded) for libvirt's event loop thread to have delivered an event."""
    done = threading.Event()
    for _ in range(int(timeout / 0.01)):
        if condition():
            return True
        done.wait(0.01)
    return condition()


# -- the cache alone ------------------------------------------------------------------------------

def test_an_entry_is_kept_for_its_domain_id_until_the_vm_changes():
    host = FakeHost()
    cache = DeviceCache(host)
    entry, stamp = cache.entry("u", 3)
    assert entry is None
    kept = DeviceEntry(3, "parsed")
    cache.keep("u", stamp, kept)
    assert cache.entry("u", 3)[0] is kept
    assert cache.entry("u", 4)[0] is None         # restarted: another live XML
    cache.on_domain_changed("U")                   # a device event (or VirtDancer's change)
    assert cache.entry("u", 3)[0] is None


@pytest.mark.parametrize("forget", [
    lambda cache: cache.on_domain_event(DomainEvent("default", "u", "vm", "defined", 0)),
    lambda cache: cache.on_domain_changed(None),   # a volume resized: every VM
    lambda cache: cache.on_connected(),            # events may have been missed
])
def test_events_and_reconnections_forget_the_entry(forget):
    cache = DeviceCache(FakeHost())
    cache.keep("u", cache.entry("u", -1)[1], DeviceEntry(-1, "parsed"))
    forget(cache)
    assert cache.entry("u", -1)[0] is None


def test_an_entry_read_while_the_vm_changed_is_not_kept():
    cache = DeviceCache(FakeHost())
    _, stamp = cache.entry("u", -1)
    cache.on_domain_changed("u")                   # came while its XML was being read
    cache.keep("u", stamp, DeviceEntry(-1, "parsed before the change"))
    assert cache.entry("u", -1)[0] is None
    _, stamp = cache.entry("u", -1)
    cache.on_connected()
    cache.keep("u", stamp, DeviceEntry(-1, "parsed before the reconnection"))
    assert cache.entry("u", -1)[0] is None


def test_nothing_is_kept_without_the_change_events():
    cache = DeviceCache(FakeHost(change_events=False))
    cache.keep("u", cache.entry("u", -1)[1], DeviceEntry(-1, "parsed"))
    assert cache.entry("u", -1)[0] is None


def test_known_domains_forget_as_the_device_cache_does_and_when_the_host_is_lost():
    """Both keep per domain the same way (hypervisor/kept_per_domain.py); found handles
    belong to their connection, so a lost one forgets them at once."""
    known = KnownDomains(FakeHost())
    ref = SimpleNamespace(recent=(1.0, "a detail shared by requests"))
    known.keep("u", known.get("u")[1], ref)
    known.on_host_event(HostEvent("default", "connected"))
    assert known.get("u")[0] is ref and ref.recent is not None
    known.on_host_event(HostEvent("default", "lost"))
    assert known.get("u")[0] is None
    assert ref.recent is None, "a request still holding the ref shares nothing from before"
    _, stamp = known.get("u")
    known.on_domain_event(DomainEvent("default", "U", "vm", "started", 0))
    known.keep("u", stamp, SimpleNamespace(recent=None))
    assert known.get("u")[0] is None
    quiet = KnownDomains(FakeHost(change_events=False))
    quiet.keep("u", quiet.get("u")[1], SimpleNamespace(recent=None))
    assert quiet.get("u")[0] is None


def test_figures_are_stale_once_older_than_fresh_for():
    clock = Clock()
    cache = DeviceCache(FakeHost(), fresh_for=2.0, clock=clock)
    assert cache.stale(None)
    asked = clock()
    clock.now += 1.9
    assert not cache.stale(asked)
    clock.now += 0.1
    assert cache.stale(asked)


# -- in the app, on the test driver ---------------------------------------------------------------

def test_the_connection_listens_to_every_change_event(hypervisor):
    connection = hypervisor.connection
    assert connection.change_events_supported
    # The lifecycle's, and one each for the change events and the live channel's others.
    assert len(connection._event_callbacks) == 1 + len(set(CHANGE_EVENTS) | set(OTHER_EVENTS))


def test_a_disk_defined_behind_virtdancers_back_shows_at_the_next_get(testapp, hypervisor):
    before = testapp.get(f"/vm/{DB_1}").json
    assert [disk["target"] for disk in before["disks"]] == ["vda"]
    cache = hypervisor.devices.cache
    assert cache.entry(DB_1, -1)[0] is not None
    # Another client of the host adds a disk to the (shut-off) VM's definition: libvirt's
    # "defined" event is all VirtDancer hears of it.
    conn = hypervisor.connection.get()
    dom = conn.lookupByUUIDString(DB_1)
    root = ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    root.find("devices").append(ET.fromstring(NEW_DISK))
    conn.defineXML(ET.tostring(root, encoding="unicode"))
    assert wait_until(lambda: cache.entry(DB_1, -1)[0] is None)
    after = testapp.get(f"/vm/{DB_1}").json
    assert [disk["target"] for disk in after["disks"]] == ["vda", "vdb"]
    assert after["disks"][1]["path"] == "/var/lib/libvirt/images/h1-extra.img"


def test_a_device_event_makes_the_next_get_read_the_xml_again(testapp, hypervisor,
                                                               monkeypatch):
    testapp.get(f"/vm/{WEB_1}")
    xml_reads = counting(monkeypatch, libvirt.virDomain, "XMLDesc")
    testapp.get(f"/vm/{WEB_1}")
    assert xml_reads == []
    dom = hypervisor.connection.get().lookupByUUIDString(WEB_1)
    # What libvirt's event loop calls on `virsh attach-disk` (DEVICE_ADDED), with its own
    # arguments after the domain and the opaque value last.
    on_device_added = hypervisor.connection._on_other(libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_ADDED)
    on_device_added(None, dom, "virtio-disk1", None)
    testapp.get(f"/vm/{WEB_1}")
    assert len(xml_reads) == 1
    testapp.get(f"/vm/{WEB_1}")
    assert len(xml_reads) == 1


def test_a_description_edited_behind_virtdancers_back_shows_at_the_next_get(testapp,
                                                                             hypervisor):
    assert testapp.get(f"/vm/{DB_1}").json["description"] == "PostgreSQL database"
    dom = hypervisor.connection.get().lookupByUUIDString(DB_1)
    dom.setMetadata(libvirt.VIR_DOMAIN_METADATA_DESCRIPTION, "moved to db-2", None, None,
                    libvirt.VIR_DOMAIN_AFFECT_CONFIG)
    # The metadata event comes on libvirt's event loop thread; the next GET after it says it.
    assert wait_until(lambda: testapp.get(f"/vm/{DB_1}").json["description"]
                      == "moved to db-2")


def test_virtdancers_own_edit_shows_at_once(testapp):
    testapp.get(f"/vm/{DB_1}")
    testapp.patch_json(f"/vm/{DB_1}", {"description": "edited here"})
    assert testapp.get(f"/vm/{DB_1}").json["description"] == "edited here"


def test_volume_sizes_and_addresses_are_asked_again_once_stale(testapp, hypervisor,
                                                               monkeypatch):
    clock = Clock()
    cache = hypervisor.devices.cache
    monkeypatch.setattr(cache, "clock", clock)
    monkeypatch.setattr(cache, "fresh_for", 2.0)
    testapp.get(f"/vm/{WEB_1}")
    lookups = counting(monkeypatch, libvirt.virConnect, "storageVolLookupByPath")
    addresses = counting(monkeypatch, libvirt.virDomain, "interfaceAddresses")
    testapp.get(f"/vm/{WEB_1}")
    assert lookups == [] and addresses == []
    clock.now += 2.0
    detail = testapp.get(f"/vm/{WEB_1}").json
    assert len(lookups) == 1 and addresses
    assert detail["nics"][0]["addresses"][0]["address"] == "192.168.122.129"


def test_a_reconnection_forgets_every_vm(testapp, hypervisor):
    testapp.get(f"/vm/{WEB_1}")
    cache = hypervisor.devices.cache
    assert cache.entry(WEB_1, hypervisor.fleet.find(WEB_1).id)[0] is not None
    cache.on_connected()
    assert cache.entry(WEB_1, hypervisor.fleet.find(WEB_1).id)[0] is None


# -- the domain found by UUID ---------------------------------------------------------------------

def test_a_found_domain_is_kept_until_an_event_or_virtdancer_changes_it(hypervisor):
    fleet = hypervisor.fleet
    found = fleet.find(WEB_1.upper())
    assert fleet.find(WEB_1) is found
    hypervisor.connection.changed(WEB_1)               # VirtDancer changed it
    again = fleet.find(WEB_1)
    assert again is not found and again.id == found.id
    fleet._known.on_domain_event(DomainEvent("default", WEB_1, "web-1", "stopped", 0))
    assert fleet.find(WEB_1) is not again
    kept = fleet.find(WEB_1)
    fleet._known.on_connected()                         # handles belong to their connection
    assert fleet.find(WEB_1) is not kept


def test_a_vm_started_before_its_event_came_shows_its_new_id(testapp, hypervisor):
    fleet = hypervisor.fleet
    running = fleet.find(WEB_1)
    # What a kept ref is between `virsh start` and its event: the ID of the VM shut off.
    stale = DomainRef(running.handle, WEB_1)
    stale.id, stale.active = -1, False
    known = fleet._known
    known.keep(WEB_1, known.get(WEB_1)[1], stale)
    assert known.get(WEB_1)[0] is stale
    detail = testapp.get(f"/vm/{WEB_1}").json
    assert detail["id"] == running.id >= 0 and detail["active"]
    assert detail["state_name"] == "running"
    assert fleet.find(WEB_1).id == running.id


def test_a_vm_deleted_by_virtdancer_is_gone_at_once(testapp, hypervisor):
    testapp.get(f"/vm/{DB_1}")
    testapp.delete(f"/vm/{DB_1}")
    testapp.get(f"/vm/{DB_1}", status=404)
