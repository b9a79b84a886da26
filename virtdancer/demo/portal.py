"""A stand-in for a portal's own application, beside VirtDancer in examples/portal.ini.

A tiny Pyramid application with one page, its home, which links to VirtDancer mounted beside it;
every other path gets Pyramid's own 404 page. It lives in the package (not in examples/) so that
`use = call:virtdancer.demo.portal:make_app` finds it wherever `pserve` is started from.
"""

from html import escape

from pyramid.config import Configurator
from pyramid.response import Response

HOME = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><link rel="icon" href="data:,"><title>{title}</title></head>
<body>
  <h1>{title}</h1>
  <p>The portal's own page. <a href="{virtdancer}">Virtual machines</a></p>
</body>
</html>
"""


def home(request):
    settings = request.registry.settings
    page = HOME.format(title=escape(settings.get("portal.title", "Portal")),
                       virtdancer=escape(settings.get("portal.virtdancer_link", "virt/")))
    return Response(page, content_type="text/html")


def make_app(global_config, **settings):
    """A PasteDeploy `app_factory`: `portal.title` and `portal.virtdancer_link` (a URL relative
    to the home page) are its settings."""
    with Configurator(settings=settings) as config:
        config.add_route("portal.home", "/")
        config.add_view(home, route_name="portal.home")
    return config.make_wsgi_app()
