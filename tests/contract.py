"""Every answer of every test, checked against the OpenAPI document VirtDancer generates.

Each VirtDancer app a test builds gets a response subscriber (through `install`, which wraps
`virtdancer.includeme`): for a response on one of VirtDancer's documented routes it finds the
operation by route name and method, and notes a breach when the status is not among the
operation's documented answers or the JSON body does not match that answer's schema. The tests'
fixture (`conftest.no_breach_of_the_contract`) fails the test that caused one.

So a view can never answer a status or a shape that its declaration does not promise.
"""

import json
import threading

from jsonschema import Draft202012Validator
from pyramid.events import NewResponse

import virtdancer
from virtdancer.openapi import document

_lock = threading.Lock()
breaches = []
checked = {"answers": 0}
_validators = {}


def _operations(registry, request):
    """`{(route name, method): operation}` of the app's document, made once per app: each
    operation's id is its method and its route's name."""
    known = getattr(registry, "virtdancer_test_operations", None)
    if known is None:
        known = {}
        for item in document.build(request)["paths"].values():
            for operation in item.values():
                method, _, route_name = operation["operationId"].partition(":")
                known[(route_name, method)] = operation
        registry.virtdancer_test_operations = known
    return known


def check_answer(event):
    request, response = event.request, event.response
    route = getattr(request, "matched_route", None)
    if route is None or not route.name.startswith("virtdancer."):
        return
    operations = _operations(request.registry, request)
    method = request.method.lower()
    operation = operations.get((route.name, method))
    if operation is None:
        return      # a route VirtDancer does not document: the page, its files, noVNC
    status = str(response.status_int)
    what = f"{request.method} {request.path_qs} ({route.name})"
    answer = operation["responses"].get(status)
    if answer is None:
        _breach(f"{what} answered {status}, which its operation does not document "
                f"({', '.join(operation['responses'])})")
        return
    with _lock:
        checked["answers"] += 1
    content = answer.get("content")
    if method == "head" or not content or not response.body:
        return
    media_type = response.content_type
    if media_type not in content:
        _breach(f"{what} answered {status} as {media_type}, not {', '.join(content)}")
        return
    schema = content[media_type]["schema"]
    if schema.get("type") == "string":
        return      # text, not JSON (the Prometheus format)
    try:
        body = json.loads(response.body)
    except ValueError:
        _breach(f"{what} answered {status} with a body that is not JSON")
        return
    errors = sorted(_validator(schema).iter_errors(body),
                    key=lambda error: list(error.absolute_path))
    if errors:
        first = errors[0]
        _breach(f"{what} answered {status} outside its schema at "
                f"{'/'.join(map(str, first.absolute_path)) or '(top)'}: {first.message[:300]}")


def _validator(schema):
    key = id(schema)     # the operations, and so their schemas, live as long as their app
    with _lock:
        validator = _validators.get(key)
        if validator is None:
            validator = _validators[key] = (schema, Draft202012Validator(schema))
    return validator[1]


def _breach(message):
    with _lock:
        breaches.append(message)


def take_breaches():
    with _lock:
        found = list(breaches)
        breaches.clear()
    return found


def install():
    """Make every VirtDancer app the tests build check its answers."""
    original = virtdancer.includeme
    if getattr(original, "checks_the_contract", False):
        return

    def includeme(config):
        # As if Pyramid had included `virtdancer` itself: its relative names are its own.
        original(config.with_package(virtdancer))
        config.add_subscriber(check_answer, NewResponse)

    includeme.checks_the_contract = True
    virtdancer.includeme = includeme
