"""Issue 15's audit scenario on QEMU, through a real waitress process: an admin makes a VM with
a qcow2 disk; an operator, logged in with the browser's form (password, session cookie, CSRF
token), takes a disk snapshot and one with memory, reverts to each, deletes them, lets a
shutdown fail after its wait, cancels a long one and starts another; VirtDancer is killed
(SIGKILL, by PID) during that task and started again on the same state file. Then `GET /audit`
has one record per step, in order, with the right user, VM, status and task; and neither the
state file nor the logs hold the password, the cookie or the CSRF token.

Everything made here is named `h12-<pid>-<random>`; the VM's disk lives in a folder of its own.
"""

import http.client
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from base64 import b64encode
from pathlib import Path

import pytest

from virtdancer.security import SESSION_COOKIE
from virtdancer.security.passwords import hash_password

from ..conftest import SECRET
from .conftest import (
    RECONNECT_MAX_DELAY,
    REPO_ROOT,
    URI,
    domain_names,
    domstate,
    remove_domain,
    virsh,
    wait_until,
)
from .test_snapshots_and_tasks import qcow2_domain_xml

PREFIX = "h12-"
PORTS = (7210, 7211)
ADMIN, OPERATOR = "h12admin", "h12op"
# One password each, random, so that finding one in a file can only mean it was kept.
PASSWORDS = {ADMIN: "h12-admin-" + secrets.token_hex(8),
             OPERATOR: "h12-op-" + secrets.token_hex(8)}


# -- a VirtDancer process of its own --------------------------------------------------------

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


def write_ini(folder, port):
    """The server's INI: QEMU, the users and state files, and the audit logger into a file."""
    settings = {"virtdancer.libvirt_uri": URI, "virtdancer.users_file": folder / "users.ini",
                "virtdancer.secret": SECRET, "virtdancer.session.secure": "false",
                "virtdancer.reconnect_max_delay": RECONNECT_MAX_DELAY,
                "virtdancer.state_file": folder / "state.sqlite"}
    ini = folder / f"server-{port}.ini"
    ini.write_text(
        "[app:main]\nuse = egg:virtdancer\n"
        + "".join(f"{key} = {value}\n" for key, value in settings.items())
        + f"\n[server:main]\nuse = egg:virtdancer#waitress\nlisten = 127.0.0.1:{port}\n"
        + LOGGING.replace("{path!r}", repr(str(folder / "audit.log"))))
    return ini


class Client:
    """HTTP to one port, as a script (HTTP Basic) or as a browser (session cookie + CSRF)."""

    def __init__(self, port, user=None):
        self.port = port
        self.basic = None if user is None else "Basic " + b64encode(
            f"{user}:{PASSWORDS[user]}".encode()).decode()
        self.cookie = self.csrf = None

    def ask(self, method, path, body=None, content_type="application/json"):
        """(status, headers, decoded JSON answer)."""
        headers = {}
        if self.basic:
            headers["Authorization"] = self.basic
        if self.cookie:
            headers["Cookie"] = f"{SESSION_COOKIE}={self.cookie}"
            if method not in ("GET", "HEAD"):
                headers["X-CSRF-Token"] = self.csrf
        if body is not None:
            headers["Content-Type"] = content_type
            body = body if isinstance(body, str) else json.dumps(body)
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode()
            return response.status, response.headers, json.loads(text) if text else None
        finally:
            connection.close()

    def expect(self, status, method, path, body=None, **options):
        got, headers, answer = self.ask(method, path, body, **options)
        assert got == status, (method, path, got, answer)
        return answer

    def log_in(self, user):
        status, headers, answer = self.ask("POST", "/login",
                                           {"username": user, "password": PASSWORDS[user]})
        assert status == 200, answer
        cookies = [value.split(";", 1)[0] for value in headers.get_all("Set-Cookie")]
        [self.cookie] = [value.split("=", 1)[1] for value in cookies
                         if value.startswith(f"{SESSION_COOKIE}=")]
        self.csrf = answer["csrf_token"]

    def run_task(self, status, method, path, body=None, timeout=120):
        """Start a task (202) and wait for its end: (task id, its last body)."""
        task_id = self.expect(status, method, path, body)["id"]
        return task_id, self.task_ended(task_id, timeout)

    def task_ended(self, task_id, timeout):
        deadline = time.monotonic() + timeout
        while True:
            task = self.expect(200, "GET", f"/tasks/{task_id}")
            if task["state"] not in ("queued", "running") or time.monotonic() > deadline:
                return task
            time.sleep(0.1)


def serve(ini, port, log):
    """Start `pserve ini` (this checkout's VirtDancer) and wait until it answers."""
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.Popen([str(Path(sys.executable).parent / "pserve"), str(ini)],
                               stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                               env=environment)

    def answers():
        try:
            return Client(port).ask("GET", "/session")[0] == 200
        except OSError:
            return process.poll() is not None
    assert wait_until(answers, 120, interval=0.2) and process.poll() is None
    return process


def stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def folder():
    """A folder for the users, state and log files and the VM's disk (which QEMU, another
    user, reads); removed after the test with any VM of this process's the test left."""
    path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
    path.chmod(0o777)
    yield path
    ours = f"{PREFIX}{os.getpid()}-"
    for name in domain_names():
        if name.startswith(ours):
            virsh("destroy", name, check=False)
            virsh("undefine", name, "--snapshots-metadata", check=False)
            remove_domain(name)
    shutil.rmtree(path, ignore_errors=True)


def users_file(folder):
    (folder / "users.ini").write_text(
        f"[{ADMIN}]\npassword = {hash_password(PASSWORDS[ADMIN])}\nrole = admin\nvms = all\n"
        f"[{OPERATOR}]\npassword = {hash_password(PASSWORDS[OPERATOR])}\nrole = operator\n"
        f"prefix = {PREFIX}\n")


def qcow2_disk(folder, name):
    disk = folder / f"{name}.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(disk), "16M"], check=True)
    disk.chmod(0o666)
    return disk


# -- the scenario ---------------------------------------------------------------------------

def test_every_step_is_one_record_by_its_user_and_no_secret_is_kept(folder):
    users_file(folder)
    name = f"{PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
    processes, tasks = [], {}
    try:
        with (folder / "server.log").open("wb") as log:
            first = serve(write_ini(folder, PORTS[0]), PORTS[0], log)
            processes.append(first)
            admin, operator = Client(PORTS[0], ADMIN), Client(PORTS[0])
            operator.log_in(OPERATOR)
            cookie, csrf = operator.cookie, operator.csrf
            uuid = admin.expect(201, "POST", "/vm",
                                qcow2_domain_xml(name, qcow2_disk(folder, name)),
                                content_type="application/xml")["uuid"]
            snapshots = f"/vm/{uuid}/snapshots"

            tasks["disk"], done = operator.run_task(202, "POST", snapshots,
                                                    {"name": "disk-only", "memory": False})
            assert done["state"] == "done", done
            operator.expect(200, "POST", f"/vm/{uuid}/action", {"action": "start"})
            tasks["memory"], done = operator.run_task(202, "POST", snapshots,
                                                      {"name": "with-memory", "memory": True})
            assert done["state"] == "done", done
            assert set(virsh("snapshot-list", name, "--name").split()) == {"disk-only",
                                                                           "with-memory"}
            for snapshot, state in (("disk-only", "shut off"), ("with-memory", "running")):
                tasks[snapshot], done = operator.run_task(
                    202, "POST", f"{snapshots}/{snapshot}/revert", {})
                assert done["result"] == {"snapshot": snapshot, "state": state}, done
                assert domstate(name) == state
            for snapshot in ("with-memory", "disk-only"):
                operator.expect(200, "DELETE", f"{snapshots}/{snapshot}")
            assert virsh("snapshot-list", name, "--name") == ""

            tasks["ignored"], failed = operator.run_task(202, "POST",
                                                         f"/vm/{uuid}/action?wait=2",
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

            second = serve(write_ini(folder, PORTS[1]), PORTS[1], log)
            processes.append(second)
            admin.port = operator.port = PORTS[1]
            # A restart ends every session (by design): the operator logs in again.
            assert operator.ask("GET", f"/tasks/{tasks['killed']}")[0] == 401
            operator.log_in(OPERATOR)
            secrets_shown = (*PASSWORDS.values(), cookie, csrf, operator.cookie, operator.csrf)
            assert operator.expect(200, "GET", f"/tasks/{tasks['killed']}")["error"] == (
                f"VirtDancer stopped during the task; libvirt says {name} is running")
            operator.expect(200, "POST", "/logout")
            admin.expect(200, "DELETE", f"/vm/{uuid}?force=1")
            trail = admin.expect(200, "GET", "/audit")["records"]
            stop(second)
    finally:
        for process in processes:
            stop(process)
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
    store = b"".join(path.read_bytes() for path in folder.glob("state.sqlite*"))
    audit_log = (folder / "audit.log").read_text(encoding="utf-8")
    server_log = (folder / "server.log").read_text(encoding="utf-8", errors="replace")
    assert audit_log.count('"action":"vm.snapshot.revert"') == 2
    for secret in secrets_shown:
        assert secret.encode() not in store
        assert secret not in audit_log and secret not in server_log
