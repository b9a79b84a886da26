"""What a request did, as an audit record: written when its response is ready.

One subscriber to Pyramid's NewResponse covers every write route of VirtDancer's (any method
but GET, HEAD and OPTIONS on a route named `virtdancer.*`), those added later included, with
no work of theirs: it reads what the request already knows (its route, its validated body's
`action`, the resources it traversed, its identity) and never its body or headers beyond the
user name of a failed HTTP Basic login. A read that is refused for its credentials (401, 429)
is a failed login and is recorded too.

A view may say what the request alone cannot, in the WSGI environ: `AUDIT_USER` (who logged
out, since the session is gone once the response is ready), `AUDIT_TASK` (the id of the task
a request started; a 202 whose Location is `.../tasks/<id>` says it as well). A request on a
task (a cancel) is about that task's host and VM.

The record of a request that started or cancelled a task is stored before its answer leaves:
the task's own record is kept at once and outlives a crash of VirtDancer, and who started it
must not be lost with the trail's last 50 ms (trail.py's BATCH_WAIT).
"""

from pyramid.authentication import extract_http_basic_credentials

from ..hypervisor.errors import HypervisorError
from ..interfaces import IAuditTrail
from ..resources import Domain, Host, VMCollection
from ..resources.tasks import Task
from ..schemas import well_formed
from . import AUDIT_TASK, AUDIT_USER

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Writes by method that change nothing: asking for an event-stream ticket.
NOT_AUDITED = frozenset({"virtdancer.events"})
# Statuses of a request refused for its credentials: a failed login.
LOGIN_REFUSED = frozenset({401, 429})
# Names of actions where the rule of `action_name` says it less well.
ACTION_WORDS = {
    ("volume.content", "PUT"): "volume.upload",
    ("volume", "PATCH"): "volume.resize",
    ("token", "DELETE"): "token.revoke",
    ("task", "DELETE"): "task.cancel",
    ("vm.cdrom", "PUT"): "vm.cdrom.insert",
    ("vm.cdrom", "DELETE"): "vm.cdrom.eject",
    ("vm.disks", "POST"): "vm.disk.attach",
    ("vm.disk", "DELETE"): "vm.disk.detach",
    ("vm.nics", "POST"): "vm.nic.attach",
    ("vm.nic", "DELETE"): "vm.nic.detach",
}
METHOD_WORDS = {"DELETE": "delete", "PATCH": "edit", "PUT": "replace"}
# As much of a user name a record keeps (a failed login's may be anything a client sent).
MAX_USER = 64


def route_key(route_name):
    """virtdancer.host.vm.action → vm.action: the same for a route and its per-host twin."""
    key = route_name[len("virtdancer."):]
    return key[len("host."):] if key.startswith("host.") else key


def action_name(key, method, validated):
    """What a request on route `key` did, in a word or two: vm.destroy, vm.create, login.

    An `action` route says its body's action (`vm.destroy`, `pool.refresh`); a POST to a
    collection creates (`vms` → `vm.create`), elsewhere it is named by its route
    (`vm.console`, `vm.clone`); DELETE deletes, PATCH edits, PUT replaces.
    """
    chosen = validated.get("action") if isinstance(validated, dict) else None
    if key.endswith(".action") and isinstance(chosen, str):
        return f"{key[:-len('.action')]}.{chosen}"
    word = ACTION_WORDS.get((key, method))
    if word is not None:
        return word
    if method == "POST":
        return f"{key[:-1]}.create" if key.rsplit(".", 1)[-1].endswith("s") else key
    return f"{key}.{METHOD_WORDS.get(method, method.lower())}"


def _short(name):
    if not isinstance(name, str):
        return None
    return name if len(name) <= MAX_USER else name[:MAX_USER] + "…"


def user_of(request, key):
    """Who made the request: a view's word, the identity, or the name a failed login tried."""
    said = request.environ.get(AUDIT_USER)
    if said is not None:
        return _short(said)
    if key == "login":
        return _short((getattr(request, "validated", None) or {}).get("username"))
    try:
        userid = request.authenticated_userid
    except Exception:     # refused credentials (malformed, throttled) or a CSRF failure
        userid = None
    if userid is not None:
        return _short(str(userid))
    credentials = extract_http_basic_credentials(request)
    return _short(credentials.username) if credentials is not None else None


def target_of(request, response):
    """(host, VM UUID, VM name) the request was about, as far as it got."""
    host = uuid = name = None
    node = getattr(request, "context", None)
    if isinstance(node, Task):
        record = node.record
        return record.host, record.vm_uuid, record.vm_name
    while node is not None:
        if isinstance(node, Domain) and uuid is None:
            uuid, name = node.uuid, node.name
        if isinstance(node, VMCollection) and response.status_code == 201 and uuid is None:
            uuid, name = _made(response)
        if isinstance(node, Host):
            host = node.name
            break
        node = getattr(node, "__parent__", None)
    matched = request.matchdict or {}
    if host is None and well_formed("host", matched.get("host", "")):
        host = matched["host"]          # a host the user does not see: what was asked
    if uuid is None and well_formed("uuid", matched.get("uuid", "")):
        uuid = matched["uuid"].lower()
    return host, uuid, name


def _made(response):
    """UUID and name of the VM a 201 answers."""
    try:
        body = response.json_body
    except ValueError:
        return None, None
    if not isinstance(body, dict):
        return None, None
    uuid, name = body.get("uuid"), body.get("name")
    return (uuid if isinstance(uuid, str) else None), (name if isinstance(name, str) else None)


def task_of(request, response):
    """The id of the task the request started (or cancelled), or None."""
    said = request.environ.get(AUDIT_TASK)
    if said is not None:
        return str(said)
    context = getattr(request, "context", None)
    if isinstance(context, Task):
        return context.record.id
    location = response.location or ""
    if response.status_code == 202 and "/tasks/" in location:
        return location.rsplit("/tasks/", 1)[1].split("?", 1)[0] or None
    return None


def describe(request, response, key, action):
    """The audit record's fields for `request` answered by `response`."""
    host, uuid, name = target_of(request, response)
    exception = getattr(request, "exception", None)
    return {
        "user": user_of(request, key),
        "client_addr": request.client_addr,
        "method": request.method,
        "route": request.matched_route.pattern,
        "action": action,
        "host": host,
        "vm_uuid": uuid,
        "vm_name": name,
        "status": response.status_code,
        "error": exception.message if isinstance(exception, HypervisorError) else None,
        "task": task_of(request, response),
    }


def record_response(event):
    """NewResponse subscriber: one audit record for each write to VirtDancer's routes and for
    each failed login."""
    request = event.request
    route = getattr(request, "matched_route", None)
    if route is None or not route.name.startswith("virtdancer.") or route.name in NOT_AUDITED:
        return
    response = event.response
    refused = response.status_code in LOGIN_REFUSED and "Authorization" in request.headers
    if request.method in SAFE_METHODS and not refused:
        return
    trail = request.registry.queryUtility(IAuditTrail)
    if trail is None:
        return
    key = route_key(route.name)
    if refused:
        action = "login"
    else:
        action = action_name(key, request.method, getattr(request, "validated", None))
    record = describe(request, response, key, action)
    if record["task"] is not None:
        trail.write_now(**record)
    else:
        trail.write(**record)
