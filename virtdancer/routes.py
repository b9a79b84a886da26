"""VirtDancer's routes: each carries its own traversal, so the add-on mounts under any prefix.

The root factory is given per route (a hybrid application), never as the application's root
factory, which belongs to whoever hosts VirtDancer.

Under a prefix (`config.include("virtdancer", route_prefix="/virt")`) the page is at `/virt/`,
with the slash its relative URLs need; `/virt` itself redirects there.
"""

from .resources import root_factory

# (route name, pattern, traversal path) of what every host has. Each is a route twice: at the
# first VirtDancer's URL, which means the default host (`/vm`, traversing Root's `vm`), and
# under `/hosts/<name>` (`virtdancer.host.vm`, `/hosts/{host}/vm`).
PER_HOST = [
    ("virtdancer.vms", "/vm", "/vm"),
    ("virtdancer.vm", "/vm/{uuid}", "/vm/{uuid}"),
    ("virtdancer.vm.action", "/vm/{uuid}/action", "/vm/{uuid}"),
    ("virtdancer.vm.console", "/vm/{uuid}/console", "/vm/{uuid}"),
    ("virtdancer.vm.xml", "/vm/{uuid}/xml", "/vm/{uuid}"),
    ("virtdancer.vm.clone", "/vm/{uuid}/clone", "/vm/{uuid}"),
    ("virtdancer.vm.migrate", "/vm/{uuid}/migrate", "/vm/{uuid}"),
    ("virtdancer.vm.stats", "/vm/{uuid}/stats", "/vm/{uuid}/stats"),
    ("virtdancer.vm.stats.cpu", "/vm/{uuid}/stats/cpu", "/vm/{uuid}/stats/cpu"),
    ("virtdancer.vm.cdrom", "/vm/{uuid}/cdroms/{target}", "/vm/{uuid}/cdroms/{target}"),
    ("virtdancer.vm.disks", "/vm/{uuid}/disks", "/vm/{uuid}/disks"),
    ("virtdancer.vm.disk", "/vm/{uuid}/disks/{target}", "/vm/{uuid}/disks/{target}"),
    ("virtdancer.vm.nics", "/vm/{uuid}/nics", "/vm/{uuid}/nics"),
    ("virtdancer.vm.nic", "/vm/{uuid}/nics/{mac}", "/vm/{uuid}/nics/{mac}"),
    ("virtdancer.vm.snapshots", "/vm/{uuid}/snapshots", "/vm/{uuid}/snapshots"),
    ("virtdancer.vm.snapshot", "/vm/{uuid}/snapshots/{snapshot}",
     "/vm/{uuid}/snapshots/{snapshot}"),
    ("virtdancer.vm.snapshot.revert", "/vm/{uuid}/snapshots/{snapshot}/revert",
     "/vm/{uuid}/snapshots/{snapshot}"),
    ("virtdancer.stats.cpu", "/stats/cpu", "/stats/cpu"),
    ("virtdancer.stats.mem", "/stats/mem", "/stats/mem"),
    ("virtdancer.stats.nic", "/stats/nic", "/stats/nic"),
    ("virtdancer.stats.nic.one", "/stats/nic/{name}", "/stats/nic/{name}"),
    ("virtdancer.pools", "/pools", "/pools"),
    ("virtdancer.pool", "/pools/{pool}", "/pools/{pool}"),
    ("virtdancer.pool.action", "/pools/{pool}/action", "/pools/{pool}"),
    ("virtdancer.volumes", "/pools/{pool}/volumes", "/pools/{pool}/volumes"),
    ("virtdancer.volume", "/pools/{pool}/volumes/{volume}", "/pools/{pool}/volumes/{volume}"),
    ("virtdancer.volume.content", "/pools/{pool}/volumes/{volume}/content",
     "/pools/{pool}/volumes/{volume}"),
    ("virtdancer.volume.clone", "/pools/{pool}/volumes/{volume}/clone",
     "/pools/{pool}/volumes/{volume}"),
    ("virtdancer.capabilities", "/capabilities", "/capabilities"),
    ("virtdancer.networks", "/networks", "/networks"),
    ("virtdancer.network", "/networks/{network}", "/networks/{network}"),
    ("virtdancer.network.action", "/networks/{network}/action", "/networks/{network}"),
]
HOST_PREFIX = "/hosts/{host}"


def on_a_host(route_name):
    """The name of a per-host route under /hosts/<name>: virtdancer.vm → virtdancer.host.vm."""
    return "virtdancer.host." + route_name[len("virtdancer."):]


# (route name, pattern, traversal path): the API, each route on VirtDancer's own tree.
TRAVERSED = [
    *PER_HOST,
    *[(on_a_host(name), HOST_PREFIX + pattern, HOST_PREFIX + traverse)
      for name, pattern, traverse in PER_HOST],
    ("virtdancer.hosts", "/hosts", "/hosts"),
    ("virtdancer.host", HOST_PREFIX, HOST_PREFIX),
    ("virtdancer.fleet", "/fleet", ""),
    ("virtdancer.metrics", "/metrics", ""),
    ("virtdancer.events", "/events", ""),
    ("virtdancer.audit", "/audit", "/audit"),
    ("virtdancer.tasks", "/tasks", "/tasks"),
    ("virtdancer.task", "/tasks/{task}", "/tasks/{task}"),
]


def mount_path(route_prefix):
    """The path VirtDancer's routes are under, as `/virt`; "" at the root."""
    prefix = (route_prefix or "").strip("/")
    return f"/{prefix}" if prefix else ""


def includeme(config):
    # Where VirtDancer's routes are: the JSON error views claim unmatched paths below it too.
    config.registry.virtdancer_mount_path = mount_path(config.route_prefix)
    if config.route_prefix:
        # Standalone, "/" is the page itself; under a prefix, "/virt" (no slash) goes to it.
        config.add_route("virtdancer.ui.slash", "", inherit_slash=True)
    config.add_route("virtdancer.ui", "/")
    config.add_route("virtdancer.static", "/static/*subpath")
    config.add_route("virtdancer.console_page", "/console")
    # The API reference: a folder-like URL, and without its slash a redirect to it.
    config.add_route("virtdancer.api_page", "/api/")
    config.add_route("virtdancer.api_page.bare", "/api")
    config.add_route("virtdancer.novnc", "/novnc/*subpath")
    for name, pattern, traverse in TRAVERSED:
        config.add_route(name, pattern, factory=root_factory, traverse=traverse)
