"""One request class for the application's lifetime, with the request properties on it.

Pyramid gives each request the properties added by `add_request_method(..., reify=True)`
(VirtDancer's `request.hosts` and `request.hypervisor`, Cornice's `request.current_service`)
by making a new class for that one request, which costs about as much as answering a request
for a bare view. Standalone, VirtDancer owns the request factory, so it makes that class once,
when the configuration is committed; the properties behave the same (computed once a request).
A host portal keeps its own request factory: `main` includes this, `includeme` does not.
"""

from pyramid.interfaces import IRequestExtensions, IRequestFactory
from pyramid.request import Request

# After every `add_request_method` (configuration actions of order 0) and before the router is
# made, which reads the request factory once.
ORDER = 100


def settle_request_properties(registry):
    """Move the request properties from Pyramid's per-request list onto one request class."""
    extensions = registry.queryUtility(IRequestExtensions)
    if extensions is None or not extensions.descriptors:
        return
    base = registry.queryUtility(IRequestFactory, default=Request)
    properties = dict(extensions.descriptors, __module__=base.__module__)
    registry.registerUtility(type(base.__name__, (base,), properties), IRequestFactory)
    # Requests of that class have them already: nothing is left to apply per request.
    extensions.descriptors.clear()


def includeme(config):
    config.action(None, settle_request_properties, args=(config.registry,), order=ORDER)
