"""VirtDancer: manage libvirt virtual machines from a browser or through a REST API.

The whole application, top to bottom:

- `hypervisor`  one supervised libvirt connection per host, bulk queries, lifecycle actions;
                the only package that imports libvirt
- `resources`   the traversal tree Root → vm → Domain that views work on
- `routes`      VirtDancer's routes, each with its own traversal (mountable under a prefix)
- `views`       Cornice services with Colander schemas, and JSON error views
- `security`    users file, HTTP Basic and login sessions (standalone; opt-in for a portal)
- `console`     one-time console tokens and the WebSocket proxy to VMs' displays
- `static`      the browser UI's files
- `accesslog`   a WSGI access log, the filter in front of VirtDancer in production.ini

`includeme` adds all of it to any Pyramid configuration; `main` is the standalone application
that `pserve development.ini` runs.
"""

import sys

from pyramid.config import Configurator

from .security import SecuritySettingsError
from .views.errors import error_response


def includeme(config):
    """Add VirtDancer to a Pyramid configuration, standalone or inside a host portal.

    It never sets the root factory or the security policy: those belong to the host. Under a
    route prefix (`config.include("virtdancer", route_prefix="/virt")`) every route, the page
    at `/virt/` among them, is below it, and `/virt` redirects to `/virt/`.
    """
    config.include(".hypervisor")
    config.include(".console")
    config.include(".routes")
    config.include(".views")


def json_not_found(request):
    return error_response(404, f"nothing at {request.path}")


def main(global_config, **settings):
    """The standalone VirtDancer application (a PasteDeploy `app_factory`)."""
    with Configurator(settings=settings) as config:
        try:
            config.include(".security")
        except SecuritySettingsError as error:
            # One line saying what to set, not a traceback: this is an operator's mistake.
            print(f"VirtDancer cannot start: {error}", file=sys.stderr)
            raise SystemExit(2) from None
        config.include(includeme)
        # Standalone, every URL is VirtDancer's, so even unknown ones answer in JSON.
        config.add_notfound_view(json_not_found)
    return config.make_wsgi_app()
