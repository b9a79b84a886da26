"""The browser UI: its page at VirtDancer's root, its files under static/."""

from importlib.resources import files

from pyramid.response import FileResponse
from pyramid.view import view_config

from ..permissions import Permission

INDEX = files("virtdancer.static") / "index.html"


@view_config(route_name="virtdancer.ui", request_method=("GET", "HEAD"),
             permission=Permission.READ)
def index(request):
    return FileResponse(str(INDEX), request=request, content_type="text/html")
