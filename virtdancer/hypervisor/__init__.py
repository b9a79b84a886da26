"""The hypervisor service: the only part of VirtDancer that talks to libvirt.

Everything above it (resources, views, UI) sees plain Python values and the errors of
`virtdancer.hypervisor.errors`; nothing above it imports libvirt.
"""

import logging

from pyramid.path import AssetResolver
from zope.interface import implementer

from ..interfaces import IHostRegistry, IHypervisor
from ..settings import value
from .cloning import Cloning
from .connection import HostConnection
from .devices import Devices
from .display import driver_has_displays, has_display_state  # noqa: F401  (its API)
from .editing import Editing, xml_version  # noqa: F401  (the service's API)
from .fleet import ACTIONS, STATE_NAMES, Fleet, allowed_actions, state_name  # noqa: F401  (the service's API)
from .hostinfo import is_local_uri, runs_in_process
from .jobs import Jobs
from .migration import Migration
from .networks import Networks
from .provisioning import Provisioning
from .registry import DEFAULT_NAME, HostRegistry, HostsSettingsError, parse_hosts  # noqa: F401
from .sampler import StatsSampler
from .snapshots import Snapshots
from .storage import POOL_ACTIONS, VOLUME_FORMATS, Storage  # noqa: F401  (the service's API)
from .volume_content import Uploads, VolumeCopies

log = logging.getLogger(__name__)

DEFAULT_URI = "qemu:///system"


@implementer(IHypervisor)
class Hypervisor:
    """One libvirt host: its supervised connection and the fleet of VMs on it."""

    def __init__(self, uri, *, name=DEFAULT_NAME, stats_interval=2.0, stats_history=600.0,
                 **connection_options):
        self.name = name
        self.uri = uri
        self.local = is_local_uri(uri)
        self.in_process = runs_in_process(uri)
        self.connection = HostConnection(uri, name=name, **connection_options)
        self.fleet = Fleet(self.connection)
        self.storage = Storage(self.connection)
        self.uploads = Uploads(self.connection)
        self.volume_copies = VolumeCopies(self.connection)
        self.provisioning = Provisioning(self.connection)
        self.editing = Editing(self.connection, self.provisioning)
        self.cloning = Cloning(self.connection)
        self.networks = Networks(self.connection)
        self.devices = Devices(self.connection)
        self.jobs = Jobs(self.connection, self.fleet)
        self.migration = Migration(self.connection)
        self.snapshots = Snapshots(self.connection)
        self.sampler = StatsSampler(self.connection, interval=stats_interval,
                                    history=stats_history, local=self.local)

    def start(self, statistics=True):
        """Connect, and sample statistics unless a command has no use for them."""
        self.connection.start()
        if statistics:
            self.sampler.start()
        return self

    def close(self):
        self.sampler.close()
        self.connection.close()


def resolve_uri(uri):
    """Turn `test:///package:path` (a Pyramid asset spec) into the file's absolute path.

    This lets development.ini name the demo fleet shipped inside the package without knowing
    where the package is installed.
    """
    prefix = "test:///"
    if uri.startswith(prefix):
        spec = uri[len(prefix):]
        if ":" in spec and not spec.startswith("/"):
            return prefix + AssetResolver().resolve(spec).abspath().lstrip("/")
    return uri


def hypervisor_from_settings(settings, uri=None, name=DEFAULT_NAME):
    """Build (not start) the hypervisor service of one host from `virtdancer.*` settings."""
    return Hypervisor(
        resolve_uri(uri or value(settings, "virtdancer.libvirt_uri")),
        name=name,
        keepalive_interval=value(settings, "virtdancer.keepalive_interval"),
        keepalive_count=value(settings, "virtdancer.keepalive_count"),
        retry_max=value(settings, "virtdancer.reconnect_max_delay"),
        stats_interval=value(settings, "virtdancer.stats.interval"),
        stats_history=value(settings, "virtdancer.stats.history"),
    )


def hosts_from_settings(settings):
    """`[(name, libvirt URI)]`: `virtdancer.hosts`, or the one default host."""
    listed = value(settings, "virtdancer.hosts")
    if listed:
        return parse_hosts(listed)
    return [(DEFAULT_NAME, value(settings, "virtdancer.libvirt_uri"))]


def registry_from_settings(settings):
    """Build (not start) the host registry of `hosts_from_settings`."""
    default = value(settings, "virtdancer.default_host") or None
    return HostRegistry([(name, hypervisor_from_settings(settings, uri, name))
                         for name, uri in hosts_from_settings(settings)], default)


# Threads start once the whole configuration is committed, after every other action: a
# configuration that fails half-way leaves no connection or sampler running behind it.
START_ORDER = 1000


def includeme(config):
    """Start the host registry: `request.hosts`, and the default host's `request.hypervisor`."""
    registry = config.registry
    if registry.queryUtility(IHostRegistry) is None:
        hosts = registry_from_settings(config.get_settings())
        registry.registerUtility(hosts, IHostRegistry)
        registry.registerUtility(hosts.default, IHypervisor)
        config.action(None, hosts.start, order=START_ORDER)
    config.add_request_method(lambda request: request.registry.getUtility(IHostRegistry),
                              "hosts", reify=True)
    config.add_request_method(lambda request: request.registry.getUtility(IHypervisor),
                              "hypervisor", reify=True)
