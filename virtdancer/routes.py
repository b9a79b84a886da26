"""VirtDancer's routes: each carries its own traversal, so the add-on mounts under any prefix.

The root factory is given per route (a hybrid application), never as the application's root
factory, which belongs to whoever hosts VirtDancer.

Under a prefix (`config.include("virtdancer", route_prefix="/virt")`) the page is at `/virt/`,
with the slash its relative URLs need; `/virt` itself redirects there.
"""

from .resources import root_factory


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
    config.add_route("virtdancer.novnc", "/novnc/*subpath")
    config.add_route("virtdancer.vms", "/vm", factory=root_factory, traverse="/vm")
    config.add_route("virtdancer.vm", "/vm/{uuid}", factory=root_factory,
                     traverse="/vm/{uuid}")
    config.add_route("virtdancer.vm.action", "/vm/{uuid}/action", factory=root_factory,
                     traverse="/vm/{uuid}")
    config.add_route("virtdancer.vm.console", "/vm/{uuid}/console", factory=root_factory,
                     traverse="/vm/{uuid}")
    config.add_route("virtdancer.vm.stats", "/vm/{uuid}/stats", factory=root_factory,
                     traverse="/vm/{uuid}/stats")
    config.add_route("virtdancer.vm.stats.cpu", "/vm/{uuid}/stats/cpu", factory=root_factory,
                     traverse="/vm/{uuid}/stats/cpu")
    config.add_route("virtdancer.stats.cpu", "/stats/cpu", factory=root_factory,
                     traverse="/stats/cpu")
    config.add_route("virtdancer.stats.mem", "/stats/mem", factory=root_factory,
                     traverse="/stats/mem")
    config.add_route("virtdancer.stats.nic", "/stats/nic", factory=root_factory,
                     traverse="/stats/nic")
    config.add_route("virtdancer.stats.nic.one", "/stats/nic/{name}", factory=root_factory,
                     traverse="/stats/nic/{name}")
    config.add_route("virtdancer.metrics", "/metrics", factory=root_factory, traverse="")
