"""The OpenAPI 3.1 document of VirtDancer's API, generated from what is registered.

Every Cornice service of VirtDancer's gives its operations: the path from its route (so a route
prefix or a Paste mount shows in `servers`, not in every path), the permission, the request
body's Colander schema, the query parameters it declares (`query=`), and its answers
(`response_schemas=`, plus the errors every VirtDancer route can answer and those it names in
`errors=`), and where an answer leads (`links=`, see `links`). There is no second, hand-written
description to drift from the code.
"""

import re

import colander
from cornice.service import get_services
from pyramid.interfaces import IRoutesMapper
from pyramid.security import NO_PERMISSION_REQUIRED

from .. import answers
from ..routes import PER_HOST
from ..schemas import PATH_PARAMETERS
from .json_schema import json_schema
from .links import document_links, drop_dangling

VERSION = "0.1.0"
_PATH_PARAMETER = re.compile(r"{(\w+)(?::[^}]*)?}")
# A host's VMs or statistics: the default host's (`/vm`, `/stats/...`) or a named one's.
# A URL of a host's things: below /hosts/{host}, or a short URL of the default host's (the first
# part of routes.PER_HOST's patterns: /vm, /stats, /pools, ...).
_ON_A_HOST = re.compile("/(%s)(/|$)|{host}" % "|".join(
    sorted({pattern.split("/")[1] for _, pattern, _ in PER_HOST})))
_BODY_METHODS = {"post", "put", "patch"}
_WRITES = _BODY_METHODS | {"delete"}


# Why each error status happens, for the document's words.
ERROR_WORDS = {
    400: "Invalid input (body, query or path); nothing was changed",
    401: "No credentials, or wrong ones",
    403: "The role lacks the permission, a session write lacks its CSRF token, or a write "
         "comes from another site's page",
    404: "No such host or VM, or one the user does not see",
    409: "Not possible now (the VM's state; libvirt says the operation is not valid now)",
    411: "An upload without its Content-Length",
    412: "If-Match names a version that is not the current one: someone changed it meanwhile",
    413: "The body is longer than `virtdancer.max_body_bytes`",
    415: "A multipart body, or one in a charset other than UTF-8",
    428: "A replacement without If-Match (the ETag of the version it edits)",
    429: "Too many failed logins (also of HTTP Basic); see Retry-After",
    500: "A bug in VirtDancer; the server log has details",
    501: "Not available on this host or in this configuration",
    502: "libvirt refused or failed",
    503: "The host's libvirtd cannot be reached now; see Retry-After",
}
_ERROR_SCHEMAS = {409: answers.RefusedAnswer}

# API routes whose views are not Cornice services: their summary and, by method, what a
# Cornice view would declare (`response_content`: answers that are not JSON).
PLAIN_OPERATIONS = {
    "virtdancer.metrics": ("Prometheus metrics of every host and VM the user sees", {
        method: {"permission": "vm:read",
                 "response_content": {200: {"text/plain": {"schema": {"type": "string"}}}}}
        for method in ("get", "head")}),
}

SECURITY_SCHEMES = {
    "basic": {"type": "http", "scheme": "basic",
              "description": "A user of the users file; what scripts use"},
    "session": {"type": "apiKey", "in": "cookie", "name": "virtdancer_session",
                "description": "The browser UI's login session (POST /login). Every write "
                               "with it also sends the session's CSRF token as "
                               "`X-CSRF-Token`."},
    "bearer": {"type": "http", "scheme": "bearer",
               "description": "An API token (POST /tokens, or `virtdancer token create`): the "
                              "token's scope within its user's role and filters"},
}
# Who may call an operation that needs a permission: any of these.
AUTHENTICATED = [{"basic": []}, {"session": []}, {"bearer": []}]


def build(request):
    """The document as seen through `request`: its `servers` URL is where the API is."""
    mapper = request.registry.getUtility(IRoutesMapper)
    mount = request.registry.virtdancer_mount_path
    routes = {route.name: route for route in mapper.get_routes()
              if route.name.startswith("virtdancer.")}
    paths = {}
    for service in get_services():
        route = routes.get(service.pyramid_route)
        if route is None or not service.name.startswith("virtdancer."):
            continue
        item = paths.setdefault(_relative(route.pattern, mount), {})
        for method, _view, args in service.definitions:
            item.setdefault(method.lower(), _operation(
                service.pyramid_route, service.description or service.name, method.lower(), args,
                route.pattern))
    for name, (summary, operations) in PLAIN_OPERATIONS.items():
        if name in routes:
            item = paths.setdefault(_relative(routes[name].pattern, mount), {})
            for method, args in operations.items():
                item[method] = _operation(name, summary, method, args, routes[name].pattern)
    drop_dangling(paths)
    return {
        "openapi": "3.1.0",
        "info": {"title": "VirtDancer", "version": VERSION,
                 "description": "Manage libvirt virtual machines. The guide is API.md; this "
                                "is the reference, generated from the code."},
        "servers": [{"url": (request.script_name + mount) or "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {"securitySchemes": SECURITY_SCHEMES},
    }


def _relative(pattern, mount):
    pattern = "/" + pattern.lstrip("/")
    return pattern[len(mount):] or "/" if mount and pattern.startswith(mount) else pattern


def _operation(name, summary, method, args, pattern):
    """One operation of the route `name`, from what its view declares (`args`)."""
    public = args.get("permission") in (None, NO_PERMISSION_REQUIRED)
    operation = {
        # The route's name: the tests' contract finds a request's operation by it.
        "operationId": f"{method}:{name}",
        "summary": summary,
        "security": [] if public else AUTHENTICATED,
        "parameters": _path_parameters(pattern) + _query_parameters(args.get("query")),
    }
    if not public:
        operation["x-permission"] = str(args["permission"])
    schema = args.get("schema")
    # An operation without a body schema reads no body (POST /logout, POST .../console):
    # documenting one would promise a validation that never happens.
    if method in _BODY_METHODS and isinstance(schema, colander.SchemaNode):
        body = json_schema(schema)
        content = {"application/json": {"schema": body}}
        if _flat(body):
            content["application/x-www-form-urlencoded"] = {"schema": _as_form(body)}
        operation["requestBody"] = {"required": True, "content": content}
    if "request_content" in args:
        # A body that is not a schema's (an upload's bytes, a VM's XML), or not only.
        content = {**operation.get("requestBody", {}).get("content", {}),
                   **args["request_content"]}
        operation["requestBody"] = {"required": True, "content": content}
    operation["parameters"] += args.get("request_headers", [])
    responses = {}
    for status, answer in sorted(args.get("response_schemas", {}).items()):
        responses[str(status)] = _response("The answer", method, json_content(json_schema(answer)))
    for status, content in sorted(args.get("response_content", {}).items()):
        responses[str(status)] = _response("The answer", method, content)
    if args.get("etag"):
        operation["parameters"].append({
            "name": "If-None-Match", "in": "header", "required": False,
            "schema": {"type": "string"},
            "description": "the ETag of a previous answer: 304 while only CPU time changed"})
        responses["304"] = {"description": "Not Modified: the client's copy is still good"}
    # A HEAD answer has no body for a link to read from.
    for status, links in (args.get("links", {}) if method != "head" else {}).items():
        responses[str(status)]["links"] = document_links(links, pattern)
    for status in sorted(_error_statuses(method, args, pattern, public)):
        responses[str(status)] = _error_response(status, method)
    operation["responses"] = responses
    return operation


def _flat(body):
    """Whether a form can carry the body: no field is a list or an object."""
    return not any({"array", "object"} & set(_types(field))
                   for field in body.get("properties", {}).values())


def _types(field):
    kinds = field.get("type", ())
    kinds = [kinds] if isinstance(kinds, str) else list(kinds)
    for choice in field.get("anyOf", ()):
        kinds += _types(choice)
    return kinds


def _as_form(body):
    """A body's schema as form fields, which are text: a field that may also be a number or
    null in JSON (`expires`) is only its text in a form."""
    form = {**body, "properties": dict(body.get("properties", {}))}
    for name, field in form["properties"].items():
        texts = [choice for choice in field.get("anyOf", ()) if choice.get("type") == "string"]
        if texts:
            rest = {key: value for key, value in field.items() if key != "anyOf"}
            form["properties"][name] = {**texts[0], **rest}
    return form


def _error_statuses(method, args, pattern, public):
    """What any VirtDancer route can answer, besides what the view itself names."""
    # Wrong Basic credentials are throttled like logins, wherever they are sent (429).
    statuses = {400, 429, 500, *args.get("errors", ())}
    if not public:
        # A browser's navigation without a login is sent to the page (303).
        statuses |= {303, 401, 403}
    if method in _WRITES:
        statuses |= {403, 413, 415}
    if _PATH_PARAMETER.search(pattern):
        statuses.add(404)          # no such thing, or one the user does not see
    if _ON_A_HOST.search(pattern):
        # The host (the default host, too, is one a user may not see) and its libvirtd, which
        # may be away (503), refuse what is not possible now (409), cannot do it at all
        # (501: its driver lacks the call) or fail (502).
        statuses |= {404, 409, 501, 502, 503}
    return statuses


def _response(description, method, content):
    if method == "head":
        return {"description": description + " (headers only)"}
    return {"description": description, "content": content}


def _error_response(status, method):
    if status == 303:
        return {"description": "A browser's navigation without a login: see Location, the "
                               "page with its login form",
                "headers": {"Location": {"schema": {"type": "string"}}}}
    schema = _ERROR_SCHEMAS.get(status, answers.ErrorAnswer)()
    return _response(ERROR_WORDS[status], method, json_content(json_schema(schema)))


def json_content(schema):
    """A JSON answer's media types: JSON, or the same text as text/plain for a client that
    prefers it (as Cornice's renderer offers)."""
    return {"application/json": {"schema": schema}, "text/plain": {"schema": schema}}


def _path_parameters(pattern):
    parameters = []
    for name in _PATH_PARAMETER.findall(pattern):
        schema = json_schema(PATH_PARAMETERS[name])
        words = schema.pop("description")
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema,
                           "description": words})
    return parameters


def _query_parameters(query):
    if query is None:
        return []
    properties = json_schema(query).get("properties", {})
    return [{"name": name, "in": "query", "required": False, "schema": schema,
             **({"description": schema.pop("description")} if "description" in schema else {})}
            for name, schema in properties.items()]
