"""The traversal tree: Root → "hosts" → Host → "vm" (its VMs) → Domain, by UUID; and
Root → "tokens" → Token, by id (resources/tokens.py); Root → "tasks" → Task, by id
(resources/tasks.py); Root → "audit", the audit records.

Resources are location-aware and know nothing of HTTP: a miss is a `KeyError`, which Pyramid
turns into a 404. They ask the hypervisor service for everything they know.

The first VirtDancer's `/vm` and `/stats` are Root's too: they are the default host's.

Permissions are granted by `Root.__acl__` to roles; every resource below inherits it. Which hosts
and VMs exist at all is the identity's business: when the request's identity has a
`sees_host(name)` or a `sees(vm_name)` method (VirtDancer's users have both), a host or VM it
does not see is a miss like an unknown name.
"""

from pyramid.authorization import DENY_ALL, Allow

from ..hypervisor.errors import NoSuchDomain
from ..permissions import ROLE_PERMISSIONS, role_principal
from ..schemas import well_formed
from .audit import AuditLog
from .devices import DEVICE_KINDS
from .networks import NetworkCollection
from .pools import PoolCollection
from .snapshots import SnapshotCollection
from .stats import DomainStats, HostStats
from .tasks import TaskCollection
from .tokens import TokenCollection


class Root:
    """The top of VirtDancer's tree, wherever the application is mounted.

    `hosts` holds every host the user sees; `vm` and `stats` are the default host's, for the
    first VirtDancer's URLs.
    """

    __name__ = ""
    __parent__ = None
    # A tuple: the security policy remembers its decisions about an ACL that cannot change.
    __acl__ = (*[(Allow, role_principal(role), permissions)
                 for role, permissions in ROLE_PERMISSIONS.items()], DENY_ALL)

    def __init__(self, request):
        self.request = request
        self.registry = request.hosts
        identity = request.identity
        self.sees = getattr(identity, "sees", None) or _sees_everything
        self.sees_host = getattr(identity, "sees_host", None) or _sees_everything
        # No VM filter at all: every VM of every host it sees, without asking a host.
        self.sees_all_vms = (self.sees is _sees_everything
                             or bool(getattr(identity, "all_vms", False)))

    def __getitem__(self, name):
        if name == "hosts":
            return Hosts(self)
        if name in ("vm", "stats", "pools", "capabilities", "networks"):
            return self.default_host()[name]
        if name == "tokens":
            return TokenCollection(self)
        if name == "audit":
            return AuditLog(self)
        if name == "tasks":
            return TaskCollection(self)
        raise KeyError(name)

    def default_host(self):
        return Hosts(self)[self.registry.default_name]

    def visible_hosts(self):
        """The hosts the user sees, as resources, in the settings' order."""
        return Hosts(self).visible()


class Hosts:
    """/hosts: every host the user sees, by name."""

    __name__ = "hosts"

    def __init__(self, parent):
        self.__parent__ = parent
        self.registry = parent.registry
        self.sees = parent.sees
        self.sees_host = parent.sees_host
        self.sees_all_vms = parent.sees_all_vms

    def __getitem__(self, name):
        hypervisor = self.registry.get(name)
        if hypervisor is None or not self.sees_host(name):
            raise KeyError(name)
        return Host(self, name, hypervisor)

    def visible(self):
        return [Host(self, name, hypervisor) for name, hypervisor in self.registry.items()
                if self.sees_host(name)]


class Host:
    """One libvirt host: its VMs (`vm`) and its statistics (`stats`)."""

    def __init__(self, parent, name, hypervisor):
        self.__parent__ = parent
        self.__name__ = name
        self.name = name
        self.hypervisor = hypervisor
        self.fleet = hypervisor.fleet
        self.sampler = hypervisor.sampler
        self.local = hypervisor.local
        self.storage = getattr(hypervisor, "storage", None)
        self.sees = parent.sees
        self.sees_all_vms = parent.sees_all_vms
        self.is_default = name == parent.registry.default_name

    def __getitem__(self, name):
        if name == "vm":
            return VMCollection(self)
        if name == "stats":
            return HostStats(self)
        if name == "pools":
            return PoolCollection(self)
        if name == "capabilities":
            return Capabilities(self)
        if name == "networks":
            return NetworkCollection(self)
        raise KeyError(name)

    def status(self):
        """`{state, reason, since}` of the host's connection, and its type and version."""
        return {**self.hypervisor.connection.status(), **self.hypervisor.connection.facts}

    def sees_every_vm(self):
        """Whether the user sees every VM of this host (shut-off ones too): the whole host's
        CPU, memory and network figures tell of all its VMs, the hidden ones' load as well."""
        if self.sees_all_vms:
            # No filter: nothing to ask libvirt, whose answer the figures do not need (a host
            # that has just gone away still has a sample fresh enough to serve).
            return True
        return self["vm"].summaries_seen()[1]

    def visible_vm_samples(self):
        """The newest sample of every running VM the user sees, by UUID (for /metrics)."""
        sample = self.sampler.latest()
        if sample is None:
            return {}
        return {uuid: vm for uuid, vm in sample["vms"].items() if self.sees(vm["name"])}


class VMCollection:
    """Every VM of the host."""

    __name__ = "vm"

    def __init__(self, parent):
        self.__parent__ = parent
        self.host = parent
        self.fleet = parent.fleet
        self.sampler = parent.sampler
        self.sees = parent.sees

    def __getitem__(self, uuid):
        # Only the canonical, hyphenated form: one VM, one URL.
        if not well_formed("uuid", uuid):
            raise KeyError(uuid)
        try:
            found = self.fleet.find(uuid)
        except NoSuchDomain:
            raise KeyError(uuid) from None
        if not self.sees(found.name):
            raise KeyError(uuid)
        return Domain(self, found)

    def summaries(self):
        """The `VMSummary` of every VM the user sees."""
        return self.summaries_seen()[0]

    def details(self):
        """The `VMDetail` of every VM the user sees."""
        return self.details_seen()[0]

    def summaries_seen(self):
        """(the `VMSummary` of every VM the user sees, whether those are all of the host's)."""
        return self._seen(self.fleet.summaries())

    def details_seen(self):
        """(the `VMDetail` of every VM the user sees, whether those are all of the host's)."""
        return self._seen(self.fleet.details())

    def _seen(self, every):
        if self.host.sees_all_vms:
            return every, True
        seen = [vm for vm in every if self.sees(vm.name)]
        return seen, len(seen) == len(every)

    def create(self, spec):
        """Make the VM `spec` describes; answer it as a `Domain`."""
        uuid = self.host.hypervisor.provisioning.create(spec)
        return self[uuid]

    def define(self, xml):
        """Define a new VM from its domain XML; answer it as a `Domain`."""
        return self[self.host.hypervisor.editing.define_new(xml)]


class Domain:
    """One VM, named in the tree by its UUID."""

    def __init__(self, parent, found):
        self.__parent__ = parent
        self.host = parent.host
        self.__name__ = found.uuid
        self.uuid = found.uuid
        self.name = found.name
        self.fleet = parent.fleet
        self.sampler = parent.sampler
        self.sees = parent.sees
        self._found = found

    def __getitem__(self, name):
        if name == "stats":
            return DomainStats(self)
        if name == "snapshots":
            return SnapshotCollection(self)
        if name in DEVICE_KINDS:
            return DEVICE_KINDS[name](self)
        raise KeyError(name)

    def detail(self):
        """The VM's `VMDetail`, or None once it no longer exists."""
        return self.fleet.detail(self._found) if self._found is not None else None

    def devices(self):
        """`{disks, cdroms, nics, graphics, boot}`: what the detail of this one VM adds."""
        return self.host.hypervisor.devices.describe(self._found)

    def check_console(self):
        """Raise `ConsoleUnavailable` (409) unless the VM's display can be opened now."""
        self.fleet.check_console(self._found)

    def run(self, action):
        self._found = self.fleet.run(self._found, action)

    def check_running(self, action):
        """`InvalidState` (409) unless the VM runs, before a task is made to `action` it."""
        self.fleet.check_running(self._found, action)

    def shutdown_and_wait(self, seconds, pause):
        """Shut it down and wait for it to be off (a task's work; `pause` between looks)."""
        return self.host.hypervisor.jobs.shutdown_and_wait(self.uuid, seconds, pause)

    def update(self, changes):
        """Change its settings; answer the names of those that wait for its next boot."""
        try:
            return self.host.hypervisor.editing.update(self.uuid, changes)
        finally:
            self.fleet.forget(self.uuid)

    def definition(self):
        """Its domain XML (never its secrets)."""
        return self.host.hypervisor.editing.definition(self.uuid)

    def redefine(self, xml, versions):
        """Replace its definition with `xml` if the current one is of `versions` (None: any)."""
        try:
            self.host.hypervisor.editing.replace(self.uuid, xml, versions)
        finally:
            self.fleet.forget(self.uuid)

    def check_clone(self, name):
        """Refuse now what `clone(name)` would refuse (its state, names taken, room)."""
        self.host.hypervisor.cloning.check(self.uuid, name)

    def clone(self, name):
        """A shut-off copy of it named `name`, as a `Domain` of the same host."""
        return self.__parent__[self.host.hypervisor.cloning.clone(self.uuid, name)]

    def destination(self, name):
        """The host called `name` as this VM's destination: a `Host` the user sees, or
        `KeyError`."""
        return self.host.__parent__[name]

    def other_hosts(self):
        """The names of the hosts the user sees that this VM is not on."""
        return [host.name for host in self.host.__parent__.visible()
                if host.name != self.host.name]

    def check_migration(self, destination, live, offline):
        """Refuse now what migrating it to `destination` would refuse at once (its state, the
        destination away, two names of one host)."""
        self.host.hypervisor.migration.check(self.uuid, destination.hypervisor.connection,
                                             live=live, offline=offline)

    def migrate(self, destination, live, offline, progress=None):
        """Move it to `destination` (a `Host`), UUID and all; `progress(fraction)` is told
        how far it is."""
        try:
            self.host.hypervisor.migration.migrate(
                self.uuid, destination.hypervisor.connection, live=live, offline=offline,
                progress=progress)
        finally:
            # What either host remembered of it may be untrue now, whatever happened.
            self.fleet.forget(self.uuid)
            destination.fleet.forget(self.uuid)
        self.sampler.forget(self.uuid)

    def abort_migration(self):
        """Cancel its migration under way."""
        self.host.hypervisor.migration.abort(self.uuid)

    def delete(self, force=False, remove_volumes=False):
        """Undefine the VM; `{removed, kept}` of its disk volumes."""
        try:
            outcome = self.host.hypervisor.provisioning.delete(
                self.uuid, force=force, remove_volumes=remove_volumes)
        finally:
            self.fleet.forget(self.uuid)
        self.sampler.forget(self.uuid)
        return outcome


class Capabilities:
    """What a new VM may be on the host."""

    __name__ = "capabilities"

    def __init__(self, parent):
        self.__parent__ = parent
        self.host = parent

    def describe(self):
        return self.host.hypervisor.provisioning.capabilities()


def _sees_everything(vm_name):
    return True


def root_factory(request):
    return Root(request)
