"""Colander schemas of the API's answers: what each endpoint may answer, field by field.

The views declare them (`response_schemas={200: ...}`), the OpenAPI document is generated from
them, and the fast tests check every answer of every test against them, so that an endpoint
never answers a shape it does not declare. They describe answers, so every field listed is
always there (`missing=colander.drop` marks the few that are not), and an object has no other
fields than those listed.

See `openapi.json_schema` for the attributes a node may carry besides Colander's own
(`nullable`, `values`, `any_of`).
"""

import colander

from .hypervisor import ACTIONS, STATE_NAMES
from .openapi.json_schema import AnyValue
from .security.tokens import SCOPES, TOKEN_PATTERN
from .tasks.records import STATES as TASK_STATES


class Answer(colander.MappingSchema):
    """An object with these fields and no other."""

    @staticmethod
    def schema_type():
        return colander.Mapping(unknown="raise")


def text(**kw):
    return colander.SchemaNode(colander.String(), **kw)


def integer(**kw):
    return colander.SchemaNode(colander.Integer(), **kw)


def number(**kw):
    return colander.SchemaNode(colander.Float(), **kw)


def boolean(**kw):
    return colander.SchemaNode(colander.Boolean(), **kw)


def listing(item, **kw):
    return colander.SequenceSchema(item, **kw)


def mapping_of(values, **kw):
    """An object of any keys, each value of the schema `values`."""
    return colander.SchemaNode(colander.Mapping(unknown="preserve"), values=values, **kw)


def one_of(*schemas, **kw):
    """Any one of `schemas` (an answer whose shape a query parameter chooses)."""
    return colander.SchemaNode(AnyValue(), any_of=schemas, **kw)


# -- errors -------------------------------------------------------------------------------------

class ErrorEntry(Answer):
    location = text(validator=colander.OneOf(
        ("body", "path", "querystring", "header", "url", "hypervisor")), nullable=True)
    name = text(nullable=True)
    description = text()


class ErrorAnswer(colander.MappingSchema):
    """Every error of VirtDancer's routes; some add fields of their own (a 409 its `state`)."""

    status = text(validator=colander.OneOf(("error",)))
    code = integer(validator=colander.Range(400, 599))
    message = text()
    errors = listing(ErrorEntry())


class RefusedAnswer(ErrorAnswer):
    """409 of an action or console: the VM's state forbids it now."""

    state = integer(missing=colander.drop, description="libvirt's state number of the VM now")
    state_name = text(missing=colander.drop)


# -- the session --------------------------------------------------------------------------------

class SessionAnswer(Answer):
    user = text(nullable=True)
    role = text(nullable=True, validator=colander.OneOf(("viewer", "operator", "admin")))
    csrf_token = text(nullable=True, description="send it as X-CSRF-Token with every write")
    events = boolean(description="the live event channel is offered: `POST /events` gives "
                     "its URL; false: the page polls")


class LogoutAnswer(Answer):
    result = text(validator=colander.OneOf(("logged out",)))


# -- VMs ----------------------------------------------------------------------------------------

_STATE = integer(description="libvirt's state: " + ", ".join(
    f"{number} {name}" for number, name in STATE_NAMES.items()))


class VMSummary(Answer):
    uuid = text()
    name = text()
    active = boolean(description="it has an ID on its host: running, paused, ...")


class VMInfo(Answer):
    """The first VirtDancer's `info`: libvirt's virDomainGetInfo."""

    maxMem = integer(description="KiB")
    memory = integer(description="KiB")
    cpuTime = integer(description="nanoseconds; 0 unless running")
    nrVirtCpu = integer()
    state = _STATE.clone()


class VMDetail(Answer):
    id = integer(description="-1 unless active")
    uuid = text()
    name = text()
    active = boolean()
    persistent = boolean()
    updated = boolean(description="its definition changed since it started")
    os = text()
    autostart = boolean()
    info = VMInfo()
    state_name = text()
    actions = listing(text(validator=colander.OneOf(ACTIONS)),
                      description="the lifecycle actions this user may run on it now")
    console = boolean(description="this user may open its console now (its display may "
                                  "still be missing: POST console says)")
    operable = boolean(description="this user may act on it at all (vm:operate)")
    description = text(missing=colander.drop,
                       description="its description, \"\" when none; in answers about one VM "
                                   "(not in lists)")


class EditedVMAnswer(VMDetail):
    """`PATCH /vm/<uuid>`: the VM's detail afterwards, and what waits for its next boot."""

    next_boot = listing(text(validator=colander.OneOf(("vcpus", "memory", "max_memory",
                                                        "boot"))),
                        description="the changed fields that apply at the VM's next boot "
                                    "(none for a shut-off VM)")


class VMList(colander.SequenceSchema):
    vm = one_of(VMSummary(), VMDetail(), description="with ?detail=1 the detail of each")


class ActionAnswer(Answer):
    result = text(validator=colander.OneOf(("done",)))
    vm = VMDetail(nullable=True, description="null when the action made the VM vanish")


class ConsoleAnswer(Answer):
    url = text(description="connect a WebSocket (noVNC) here")
    token = text()
    expires = number(description="Unix time")


class EventsAnswer(Answer):
    url = text(description="connect a WebSocket here (add &since=<seq> to resume)")
    expires = number(description="Unix time: connect before it")


# -- hosts --------------------------------------------------------------------------------------

class VMCounts(Answer):
    running = integer()
    total = integer()


class HostAnswer(Answer):
    name = text()
    default = boolean(description="the host the first VirtDancer's URLs mean")
    state = text(validator=colander.OneOf(("connected", "connecting", "unavailable")))
    reason = text(nullable=True)
    since = number(nullable=True, description="Unix time of the last change of state")
    type = text(nullable=True, description="the hypervisor, as libvirt names it")
    version = text(nullable=True)
    vms = VMCounts(nullable=True, description="null while the host does not answer")
    displays = boolean(description="its VMs can have a graphical console (false for libvirt's "
                                   "test driver)")
    host_figures = boolean(nullable=True,
                           description="the user sees every VM of the host, and so may see its "
                                       "whole CPU, memory and network figures (/stats/...); "
                                       "null while the host does not answer")
    uri = text(missing=colander.drop, description="admins only")


class HostList(colander.SequenceSchema):
    host = HostAnswer()


class FleetVMSummary(VMSummary):
    host = text()


class FleetVMDetail(VMDetail):
    host = text()


class FleetAnswer(Answer):
    hosts = HostList()
    vms = listing(one_of(FleetVMSummary(), FleetVMDetail()))


# -- statistics ---------------------------------------------------------------------------------

def percent(**kw):
    return number(nullable=True, **kw)


def history_of(sample, description):
    """`{interval, samples}`: the answer of `?history=1`, each sample `sample` with its time."""
    timed = sample.clone()
    timed.children.insert(0, number(name="time", description="Unix time"))
    return Answer(colander.SchemaNode(colander.Float(), name="interval"),
                  listing(timed, name="samples"), description=description)


class HostCPU(Answer):
    usr = percent()
    sys = percent()
    steal = percent(description="null where the host's figures do not tell it apart")
    iowait = percent()
    irq = percent(description="null where the host's figures do not tell it apart")
    total = percent()


class HostMemory(Answer):
    memTotal = integer(nullable=True, description="bytes")
    memFree = integer(nullable=True)
    memBuffer = integer(nullable=True)
    swapTotal = integer(nullable=True)
    swapFree = integer(nullable=True)


class NICCounters(Answer):
    rx = integer(description="bytes received")
    tx = integer(description="bytes sent")


class NICRates(Answer):
    rx = number(nullable=True, description="bytes per second")
    tx = number(nullable=True)


class VMMemory(Answer):
    current = integer(nullable=True, description="bytes")
    maximum = integer(nullable=True)
    used = integer(nullable=True, description="as the guest's balloon driver reports it")


class VMDisk(Answer):
    read = number(nullable=True, description="bytes per second, every disk")
    write = number(nullable=True)


class VMCounters(Answer):
    cpu_seconds = number(nullable=True)
    disk_read_bytes = integer(nullable=True)
    disk_write_bytes = integer(nullable=True)
    net_rx_bytes = integer(nullable=True)
    net_tx_bytes = integer(nullable=True)


def vcpus(**kw):
    return mapping_of(percent(), description="cpu_0, cpu_1, ...: percent of each vCPU", **kw)


class VMStats(Answer):
    cpu = percent()
    vcpus = vcpus()
    memory = VMMemory()
    disk = VMDisk()
    net = NICRates(description="bytes per second, every interface of the VM")
    counters = VMCounters()
    running = boolean()


HOST_CPU = one_of(HostCPU(), history_of(HostCPU(), "with ?history=1"))
HOST_MEMORY = one_of(HostMemory(), history_of(HostMemory(), "with ?history=1"))
NIC_LIST = one_of(
    mapping_of(integer(), description="<interface>_rx, <interface>_tx: byte counters"),
    history_of(mapping_of(number(nullable=True)), "with ?history=1: bytes per second"))
NIC = one_of(NICCounters(), history_of(NICRates(), "with ?history=1: bytes per second"))
VM_STATS = one_of(VMStats(), history_of(VMStats(), "with ?history=1"))
VM_CPU = one_of(vcpus(), history_of(vcpus(), "with ?history=1"))


# -- API tokens ---------------------------------------------------------------------------------

class TokenAnswer(Answer):
    """One token, as `GET /tokens` lists it: never its secret."""

    id = text(description="12 hex digits; in its URL")
    owner = text(description="the user it authenticates as")
    name = text()
    scope = text(validator=colander.OneOf(SCOPES))
    created = number(description="Unix time")
    last_used = number(nullable=True, description="Unix time, to the minute; null if never "
                                                  "used")
    expires = number(nullable=True, description="Unix time; null for never")


class NewTokenAnswer(TokenAnswer):
    """`POST /tokens` (201): the token, with its text, which is never shown again."""

    token = text(validator=colander.Regex(TOKEN_PATTERN),
                 description="vd_<id>_<secret>: send it as `Authorization: Bearer <token>`")


class TokenList(colander.SequenceSchema):
    """The user's tokens (an admin's: everyone's), the newest first."""

    token = TokenAnswer()


class RevokedTokenAnswer(Answer):
    result = text(validator=colander.OneOf(("revoked",)))
    id = text()


# -- storage ------------------------------------------------------------------------------------

class PoolAnswer(Answer):
    name = text()
    type = text(description="libvirt's pool type: dir, logical, ...")
    state = text(description="inactive, building, running, degraded or inaccessible")
    active = boolean()
    autostart = boolean()
    persistent = boolean()
    capacity = integer(description="bytes")
    allocation = integer(description="bytes")
    available = integer(description="bytes")
    volumes = integer(description="how many volumes it has (0 while not running)")
    path = text(description="its folder (target path)")


class PoolList(colander.SequenceSchema):
    pool = PoolAnswer()


class VolumeUserAnswer(Answer):
    uuid = text()
    name = text()


class VolumeAnswer(Answer):
    name = text()
    format = text()
    capacity = integer(description="bytes")
    allocation = integer(description="bytes")
    path = text()
    in_use = boolean(description="a VM uses it (even one this user does not see)")
    used_by = listing(VolumeUserAnswer(), description="the VMs using it that this user sees")


class VolumeList(colander.SequenceSchema):
    volume = VolumeAnswer()


class DeletedAnswer(Answer):
    result = text(validator=colander.OneOf(("deleted",)))
# -- creating and deleting VMs ------------------------------------------------------------------

class CapabilitiesAnswer(Answer):
    arch = text()
    domain_types = listing(text())
    domain_type = text(description="the type a new VM gets: kvm when offered, else qemu")
    machines = listing(text())
    max_vcpus = integer()
    host_memory_mib = integer()
    firmware = listing(text(validator=colander.OneOf(("bios", "uefi"))))
    disk_buses = listing(text())
    nic_models = listing(text())


class KeptVolume(Answer):
    path = text()
    reason = text()


class DeletedVMAnswer(Answer):
    result = text()
    removed = listing(text(), description="paths of the volumes deleted")
    kept = listing(KeptVolume(), description="volumes left in place, and why")

# -- virtual networks ---------------------------------------------------------------------------

class NetworkRange(Answer):
    address = text(description="the host's address on the network (the gateway)")
    prefix = integer(nullable=True)
    dhcp_start = text(nullable=True)
    dhcp_end = text(nullable=True)


class NetworkLease(Answer):
    mac = text(nullable=True)
    ip = text(nullable=True)
    hostname = text(nullable=True)
    expiry = integer(description="Unix time the lease ends")


class NetworkAnswer(Answer):
    name = text()
    uuid = text()
    state = text(validator=colander.OneOf(("active", "inactive")))
    autostart = boolean()
    persistent = boolean()
    bridge = text(nullable=True)
    forward = text(nullable=True, description="libvirt's forward mode (nat, route, ...); null "
                                              "for an isolated network")
    ips = listing(NetworkRange())
    leases = listing(NetworkLease(), nullable=True, missing=colander.drop,
                     description="admins only (others get no such key); [] while inactive, "
                                 "null where the host cannot tell (libvirt's test driver)")


class NetworkList(colander.SequenceSchema):
    network = NetworkAnswer()


class NetworkActionAnswer(Answer):
    result = text(validator=colander.OneOf(("done",)))
    network = NetworkAnswer()


class RemovedNetworkAnswer(Answer):
    result = text(validator=colander.OneOf(("removed",)))
    name = text()


# -- the devices of one VM (GET /vm/<uuid>, views/devices.py) -----------------------------------

class DiskAnswer(Answer):
    target = text(description="the drive's name in the VM: vda, sdb, ...")
    bus = text(nullable=True, description="virtio, sata, scsi, ide, ...")
    device = text(validator=colander.OneOf(("disk",)))
    pool = text(nullable=True, description="null when the path is in no pool")
    volume = text(nullable=True)
    path = text(nullable=True, description="the file or block device; null for a network disk")
    format = text(nullable=True, description="qcow2, raw, ...")
    capacity = integer(nullable=True, description="bytes; null when unknown")
    allocation = integer(nullable=True, description="bytes on the host; null when unknown")
    readonly = boolean()


class CDROMAnswer(Answer):
    target = text()
    bus = text(nullable=True)
    pool = text(nullable=True, description="of the inserted ISO; null when in no pool")
    volume = text(nullable=True)
    path = text(nullable=True, description="the inserted ISO; null when the drive is empty")


class GuestAddress(Answer):
    address = text()
    prefix = integer(nullable=True)
    type = text(validator=colander.OneOf(("ipv4", "ipv6")))
    source = text(validator=colander.OneOf(("lease", "agent")),
                  description="the network's DHCP lease, or the guest agent")


class NICAnswer(Answer):
    mac = text(nullable=True)
    model = text(nullable=True, description="virtio, e1000, rtl8139, ...")
    network = text(nullable=True, description="the virtual network; null for a bridge")
    bridge = text(nullable=True, description="the host bridge (a running VM's network's too)")
    addresses = listing(GuestAddress(), description="the guest's addresses where the host "
                                                    "can tell; empty when unknown")


class GraphicsAnswer(Answer):
    type = text(description="vnc, spice, ...")
    port = integer(nullable=True, description="null until the running VM has one")
    listen = text(nullable=True)


class VMFullDetail(VMDetail):
    """`GET /vm/<uuid>`: the detail of one VM, with its devices (the lists have none)."""

    disks = listing(DiskAnswer())
    cdroms = listing(CDROMAnswer())
    nics = listing(NICAnswer())
    graphics = listing(GraphicsAnswer())
    boot = listing(text(validator=colander.OneOf(("hd", "cdrom", "network", "fd"))),
                   description="the boot order of <os> (a running VM's until its next boot); "
                               "[] when it names none: libvirt then boots the first disk, or "
                               "the devices' own <boot order=/>")


class DetachedAnswer(Answer):
    result = text(validator=colander.OneOf(("detached",)))
    live = boolean(description="detached from the running VM")
    persistent = boolean(description="detached from its definition")
    pending = boolean(description="the running VM still has it: its guest has not let go yet")


# -- the audit trail ----------------------------------------------------------------------------

class AuditVM(Answer):
    uuid = text()
    name = text(nullable=True, description="null when the UUID matched no VM the user saw")


class AuditRecord(Answer):
    """Who did what, on what, with which result. Never a password, token, cookie or body."""

    id = integer(description="increasing; the paging cursor")
    time = number(description="Unix time")
    user = text(nullable=True, description="the user; a failed login's: the name it tried")
    client_addr = text(nullable=True, description="the client's address (a trusted proxy's "
                                                  "X-Forwarded-For applied)")
    method = text(nullable=True, description="the HTTP method; null for no request (a "
                                             "users-file reload)")
    route = text(nullable=True, description="the route's pattern, as /vm/{uuid}/action")
    action = text(description="what was done: vm.destroy, vm.create, vm.console, login, "
                              "logout, token.create, users-file.reload, ...")
    host = text(nullable=True)
    vm = AuditVM(nullable=True)
    status = integer(nullable=True, description="the HTTP status answered")
    error = text(nullable=True, description="libvirt's error message, if it refused")
    task = text(nullable=True, description="the id of the task the request started")


class AuditPage(Answer):
    """`GET /audit`: the records, newest first, and where the next page starts."""

    records = listing(AuditRecord())
    next_before = integer(nullable=True, description="pass it as ?before= for the next page; "
                                                     "null on the last page")


# -- tasks --------------------------------------------------------------------------------------

class TaskVM(Answer):
    uuid = text()
    name = text()


class TaskAnswer(Answer):
    """A task: what `GET /tasks/<id>` answers, and the `202` of an operation run as one."""

    id = text(description="16 hex digits; in its URL, /tasks/<id>")
    type = text(description="what it does: shutdown, snapshot, revert, clone, ...")
    host = text(description="the host it runs on")
    vm = TaskVM(nullable=True, description="the VM it works on, or null")
    user = text(nullable=True, description="who asked for it")
    state = text(validator=colander.OneOf(TASK_STATES))
    progress = number(nullable=True, description="0 to 1, from libvirt's job info; null when "
                                                 "nothing tells")
    created = number(description="Unix time it was asked for")
    started = number(nullable=True, description="Unix time it began to run; null while queued")
    finished = number(nullable=True, description="Unix time it ended; null until then")
    result = colander.SchemaNode(AnyValue(), nullable=True,
                                 description="what it made, once done (its type says the shape)")
    error = text(nullable=True, description="why it failed or was cancelled, in words")


class TaskList(colander.SequenceSchema):
    """The user's tasks (an admin's: everyone's they may see), the newest first."""

    task = TaskAnswer()


# -- snapshots ----------------------------------------------------------------------------------

class SnapshotAnswer(Answer):
    """One snapshot of a VM."""

    name = text()
    parent = text(nullable=True, description="the snapshot it was taken after; null at a root")
    created = number(description="Unix time it was taken")
    state = text(description="the VM's state then, as libvirt says it: running, shutoff, ...")
    description = text()
    memory = boolean(description="it keeps the VM's memory too (else its disks only)")
    current = boolean(description="the VM's current snapshot: the one its disks are based on")


class SnapshotList(colander.SequenceSchema):
    """The VM's snapshots as a tree: each parent before its children, siblings oldest first."""

    snapshot = SnapshotAnswer()


class DeletedSnapshotsAnswer(Answer):
    result = text(validator=colander.OneOf(("deleted",)))
    removed = listing(text(), description="the names of the snapshots deleted")
