"""Issue 15's audit scenario on QEMU, through a real waitress process: an admin makes a VM with
a qcow2 disk; an operator, logged in with the browser's form (password, session cookie, CSRF
token), takes a disk snapshot and one with memory, reverts to each, deletes them, lets a
shutdown fail after its wait, cancels a long one and starts another; VirtDancer is killed
(SIGKILL, by PID) during that task and started again on the same state file. Then `GET /audit`
has one record per step, in order, with the right user, VM, status and task; and neither the
state file nor the logs hold the password, the cookie or the CSRF token.

Everything made here is named `h12-<pid>-<random>`; the VM's disk lives in a folder of its own.
"""

import os
import secrets
import shutil
import signal
import tempfile
from pathlib import Path

import pytest

from virtdancer.security.passwords import hash_password

from ..processes import stop
from .conftest import domain_names, domstate, virsh, wait_until
from .served import SERVER_LOG, STATE_FILE, Client
from .test_snapshots_and_tasks import qcow2_disk, qcow2_domain_xml, remove_ours

PREFIX = "h12-"
ADMIN, OPERATOR = "h12admin", "h12op"
# One password each, random, so that finding one in a file can only mean it was kept.
PASSWORDS = {ADMIN: "h12-admin-" + secrets.token_hex(8),
             OPERATOR: "h12-op-" + secrets.token_hex(8)}


# -- a VirtDancer process of its own, its audit trail logged to a file ----------------------

LOGGING = """
[loggers]
keys = root, audit

[handlers]
keys = console, audit

[formatters]
keys = plain

[logger_root]
level = WARN
handlers = console

[logger_audit]
level = INFO
handlers = audit
qualname = virtdancer.audit
propagate = 0

[handler_console]
class = StreamHandler
args = (sys.stderr,)
formatter = plain

[handler_audit]
class = FileHandler
args = ({path!r}, "a", "utf-8")
formatter = plain

[formatter_plain]
format = %(asctime)s %(levelname)s [%(name)s] %(message)s
"""


def serve(pserve, folder):
    """VirtDancer on the folder's users and state files, the audit logger into audit.log."""
    return pserve(folder, folder / "users.ini",
                  LOGGING.replace("{path!r}", repr(str(folder / "audit.log"))))


@pytest.fixture
def folder():
    """A folder for the users, state and log files and the VM's disk (which QEMU, another
    user, reads); removed after the test with any VM of this process's the test left."""
    path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
    path.chmod(0o777)
    yield path
    try:
        remove_ours(PREFIX)
    finally:
        shutil.rmtree(path, ignore_errors=True)


def users_file(folder):
    (folder / "users.ini").write_text(
        f"[{ADMIN}]\npassword = {hash_password(PASSWORDS[ADMIN])}\nrole = admin\nvms = all\n"
        f"[{OPERATOR}]\npassword = {hash_password(PASSWORDS[OPERATOR])}\nrole = operator\n"
        f"prefix = {PREFIX}\n")


# -- the scenario ---------------------------------------------------------------------------

def test_every_step_is_one_record_by_its_user_and_no_secret_is_kept(folder, pserve):
    users_file(folder)
    name = f"{PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
    tasks = {}
    first, port = serve(pserve, folder)
    admin = Client(port, (ADMIN, PASSWORDS[ADMIN]))
    operator = Client(port)
    operator.log_in(OPERATOR, PASSWORDS[OPERATOR])
    cookie, csrf = operator.cookie, operator.csrf
    uuid = admin.expect(201, "POST", "/vm", qcow2_domain_xml(name, qcow2_disk(folder, name)),
                        content_type="application/xml")["uuid"]
    snapshots = f"/vm/{uuid}/snapshots"

    tasks["disk"], done = operator.run_task(202, "POST", snapshots,
                                            {"name": "disk-only", "memory": False})
    assert done["state"] == "done", done
    operator.expect(200, "POST", f"/vm/{uuid}/action", {"action": "start"})
    tasks["memory"], done = operator.run_task(202, "POST", snapshots,
                                              {"name": "with-memory", "memory": True})
    assert done["state"] == "done", done
    assert set(virsh("snapshot-list", name, "--name").split()) == {"disk-only", "with-memory"}
    for snapshot, state in (("disk-only", "shut off"), ("with-memory", "running")):
        tasks[snapshot], done = operator.run_task(
            202, "POST", f"{snapshots}/{snapshot}/revert", {})
        assert done["result"] == {"snapshot": snapshot, "state": state}, done
        assert domstate(name) == state
    for snapshot in ("with-memory", "disk-only"):
        operator.expect(200, "DELETE", f"{snapshots}/{snapshot}")
    assert virsh("snapshot-list", name, "--name") == ""

    tasks["ignored"], failed = operator.run_task(202, "POST", f"/vm/{uuid}/action?wait=2",
                                                 {"action": "shutdown"}, timeout=30)
    assert failed["state"] == "failed" and domstate(name) == "running", failed
    tasks["cancelled"] = operator.expect(202, "POST", f"/vm/{uuid}/action?wait=600",
                                         {"action": "shutdown"})["id"]
    assert wait_until(lambda: operator.expect(
        200, "GET", f"/tasks/{tasks['cancelled']}")["state"] == "running", 10)
    operator.expect(200, "DELETE", f"/tasks/{tasks['cancelled']}")
    assert operator.task_ended(tasks["cancelled"], 10)["state"] == "cancelled"

    # Killed at once after the answer: the record of the request answered is kept.
    tasks["killed"] = operator.expect(202, "POST", f"/vm/{uuid}/action?wait=600",
                                      {"action": "shutdown"})["id"]
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)

    second, port = serve(pserve, folder)
    admin.port = operator.port = port
    # A restart ends every session (by design): the operator logs in again.
    assert operator.ask("GET", f"/tasks/{tasks['killed']}")[0] == 401
    operator.log_in(OPERATOR, PASSWORDS[OPERATOR])
    secrets_shown = (*PASSWORDS.values(), cookie, csrf, operator.cookie, operator.csrf)
    assert operator.expect(200, "GET", f"/tasks/{tasks['killed']}")["error"] == (
        f"VirtDancer stopped during the task; libvirt says {name} is running")
    operator.expect(200, "POST", "/logout")
    admin.expect(200, "DELETE", f"/vm/{uuid}?force=1")
    trail = admin.expect(200, "GET", "/audit")["records"]
    stop(second)
    assert name not in domain_names()

    vm = {"uuid": uuid, "name": name}
    steps = [   # action, user, status, about the VM, task
        ("login", OPERATOR, 200, None, None),
        ("vm.create", ADMIN, 201, vm, None),
        ("vm.snapshot.create", OPERATOR, 202, vm, tasks["disk"]),
        ("vm.start", OPERATOR, 200, vm, None),
        ("vm.snapshot.create", OPERATOR, 202, vm, tasks["memory"]),
        ("vm.snapshot.revert", OPERATOR, 202, vm, tasks["disk-only"]),
        ("vm.snapshot.revert", OPERATOR, 202, vm, tasks["with-memory"]),
        ("vm.snapshot.delete", OPERATOR, 200, vm, None),
        ("vm.snapshot.delete", OPERATOR, 200, vm, None),
        ("vm.shutdown", OPERATOR, 202, vm, tasks["ignored"]),
        ("vm.shutdown", OPERATOR, 202, vm, tasks["cancelled"]),
        ("task.cancel", OPERATOR, 200, vm, tasks["cancelled"]),
        ("vm.shutdown", OPERATOR, 202, vm, tasks["killed"]),
        ("login", OPERATOR, 200, None, None),
        ("logout", OPERATOR, 200, None, None),
        ("vm.delete", ADMIN, 200, vm, None),
    ]
    recorded = [(r["action"], r["user"], r["status"], r["vm"], r["task"])
                for r in reversed(trail)]
    assert recorded == steps
    assert all(r["host"] == "default" for r in trail if r["vm"])
    assert all(r["error"] is None for r in trail)

    # Neither the store (read once the server stopped, WAL and all) nor the logs keep a secret.
    store = b"".join(path.read_bytes() for path in folder.glob(f"{STATE_FILE}*"))
    audit_log = (folder / "audit.log").read_text(encoding="utf-8")
    server_log = (folder / SERVER_LOG).read_text(encoding="utf-8", errors="replace")
    assert audit_log.count('"action":"vm.snapshot.revert"') == 2
    for secret in secrets_shown:
        assert secret.encode() not in store
        assert secret not in audit_log and secret not in server_log
