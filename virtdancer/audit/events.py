"""Audit records about a VM, as "audit" events on the live event hub, so that the UI's event log
can say "web-1 destroyed by tenant".

Only records of a VM with a known name on a host are published: the hub delivers an event to
whoever sees its host and VM, and a record of no VM (a login, a token, a users-file reload, a
pool) would reach users who must not read it. `GET /audit` has them all, for admins.
"""


def event_fields(record):
    """The hub's `publish` arguments for `record`, or None for a record not to publish."""
    if record["host"] is None or record["vm_uuid"] is None or record["vm_name"] is None:
        return None
    action = record["action"]
    status = record["status"]
    return {
        "type": "audit",
        "host": record["host"],
        "vm": {"uuid": record["vm_uuid"], "name": record["vm_name"]},
        "audit": {
            "id": record["id"],
            "user": record["user"],
            # What was done to the VM: "destroy", "create", "console", "disk.attach".
            "action": action[len("vm."):] if action.startswith("vm.") else action,
            "status": "ok" if status is None or status < 400 else "failed",
            "code": status,
            "error": record["error"],
            "task": record["task"],
        },
    }


def publisher(hub):
    """A listener of the trail's that publishes each record it may on `hub`."""
    def publish(record):
        fields = event_fields(record)
        if fields is not None:
            hub.publish(fields.pop("type"), fields.pop("host"), **fields)
    return publish
