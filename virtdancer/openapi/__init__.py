"""GET /openapi.json: the API's OpenAPI 3.1 document, generated from the registered services.

It holds no data, so it needs no login; it is made once per mount point and kept.
"""

import colander
from pyramid.security import NO_PERMISSION_REQUIRED

from ..views.service import VirtDancerService

openapi = VirtDancerService(name="virtdancer.openapi", pyramid_route="virtdancer.openapi",
                            description="This API's OpenAPI document")


@openapi.get(permission=NO_PERMISSION_REQUIRED,
             response_schemas={200: colander.SchemaNode(
                 colander.Mapping(unknown="preserve"),
                 description="an OpenAPI 3.1 document")})
def show_document(request):
    """The document, with `servers` where this request found the API."""
    made = request.registry.__dict__.setdefault("virtdancer_openapi_documents", {})
    where = request.script_name
    if where not in made:
        # Here, not at the top: the answers' schemas use this package's JSON Schema types.
        from . import document

        made[where] = document.build(request)
    return made[where]


def includeme(config):
    config.add_route("virtdancer.openapi", "/openapi.json")
    config.scan(".")
