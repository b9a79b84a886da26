"""VirtDancer: manage libvirt virtual machines from a browser or through a REST API.

The whole application, top to bottom:

- `hypervisor`  one supervised libvirt connection per host, bulk queries, lifecycle actions;
                the only package that imports libvirt
- `resources`   the traversal tree Root → vm → Domain that views work on
- `routes`      VirtDancer's routes, each with its own traversal (mountable under a prefix)
- `views`       Cornice services with Colander schemas, and JSON error views
- `schemas`, `answers`  the Colander schemas of requests and of answers
- `openapi`     GET /openapi.json, generated from the services and their schemas
- `security`    users file, HTTP Basic and login sessions (standalone; opt-in for a portal)
- `console`     one-time console tokens and the WebSocket proxy to VMs' displays
- `live`        live events: the hub, the feed of libvirt's events, the WebSocket channel
- `static`      the browser UI's files
- `state`       the SQLite file of what must survive a restart (API tokens, tasks, the audit
                trail)
- `tasks`       long operations run in the background and their records (`202` + /tasks/<id>)
- `audit`       who did what: a record of every write, login and users-file reload
- `accesslog`   a WSGI access log, the filter in front of VirtDancer in production.ini
- `request_class`  standalone, one request class with the request properties on it
- `route_index` standalone, a routes mapper that tries only the routes a path's first segment
                allows

`includeme` adds all of it to any Pyramid configuration; `main` is the standalone application
that `pserve development.ini` runs; `close` stops the threads of either.
"""

import sys

from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationExecutionError

from .console.proxy import ProxyCannotListen
from .hypervisor.registry import HostsSettingsError
from .interfaces import IAuditTrail, IConsole, IEventFeed, IHostRegistry, IStateStore, ITasks
from .published_secrets import PublishedSecret
from .security import SecuritySettingsError
from .settings import SettingsError
from .settings import check as check_settings
from .state import StateFileError

# An operator's mistakes, said in one line rather than with a traceback.
OPERATOR_MISTAKES = (SecuritySettingsError, PublishedSecret, ProxyCannotListen,
                     HostsSettingsError, SettingsError, StateFileError)


def includeme(config):
    """Add VirtDancer to a Pyramid configuration, standalone or inside a host portal.

    It never sets the root factory or the security policy: those belong to the host. Under a
    route prefix (`config.include("virtdancer", route_prefix="/virt")`) every route, the page
    at `/virt/` among them, is below it, and `/virt` redirects to `/virt/`.
    """
    # Every virtdancer.* setting is known and well-formed, or one line says which is not.
    check_settings(config.get_settings())
    config.include(".state")
    config.include(".audit")
    config.include(".hypervisor")
    config.include(".live")
    config.include(".tasks")
    config.include(".console")
    config.include(".routes")
    config.include(".views")
    config.include(".openapi")


def cannot_start(error):
    print(f"VirtDancer cannot start: {error}", file=sys.stderr)
    return SystemExit(2)


def main(global_config, **settings):
    """The standalone VirtDancer application (a PasteDeploy `app_factory`)."""
    config = Configurator(settings=settings)
    try:
        with config:
            config.include(".route_index")
            config.include(".security")
            config.include(includeme)
            config.include(".request_class")
            # Standalone, every URL is VirtDancer's, so even unknown ones answer in JSON.
            config.registry.virtdancer_owns_every_path = True
        return config.make_wsgi_app()
    except OPERATOR_MISTAKES as error:
        raise cannot_start(error) from None
    except ConfigurationExecutionError as error:
        # Raised while the configuration was committed: what started before it must stop.
        close(config.registry)
        if isinstance(error.evalue, OPERATOR_MISTAKES):
            raise cannot_start(error.evalue) from None
        raise


def close(app_or_registry):
    """Stop what a VirtDancer app runs beside its requests: the inline console proxy (and its
    event channel), the task runner, the feed of live events, the statistics sampler, the
    libvirt connection's supervisor and the audit trail's writer; and close its state file.

    Takes the WSGI app `main` or `make_wsgi_app` returned (a Pyramid router), a Configurator or
    a registry. A process that builds apps and drops them (a test suite) calls it for each one;
    calling it twice is harmless.
    """
    registry = getattr(app_or_registry, "registry", app_or_registry)
    # The proxy first: its consoles read from the hypervisor's connection.
    console = registry.queryUtility(IConsole)
    if console is not None:
        console.close()
    # Tasks before the hosts: a task ends (or is cancelled) while its host still answers.
    tasks = registry.queryUtility(ITasks)
    if tasks is not None:
        tasks.close()
    # Then the feed of live events, which asks the hosts about the VMs of their events.
    feed = registry.queryUtility(IEventFeed)
    if feed is not None:
        feed.close()
    hosts = registry.queryUtility(IHostRegistry)
    if hosts is not None:
        hosts.close()
    # The trail writes what it has queued into the store: before the store closes.
    trail = registry.queryUtility(IAuditTrail)
    if trail is not None:
        trail.close()
    store = registry.queryUtility(IStateStore)
    if store is not None:
        store.close()
