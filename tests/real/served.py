"""VirtDancer in a process of its own, as `pserve` runs it: its INI, its start and stop (by
PID), and HTTP to it as a script or a browser would speak it.

The `pserve` fixture of conftest.py puts these together for a test.
"""

import http.client
import json
import os
import subprocess
import sys
import time
from base64 import b64encode
from pathlib import Path

from virtdancer.security import SESSION_COOKIE

from ..conftest import SECRET
from .conftest import RECONNECT_MAX_DELAY, REPO_ROOT, URI, wait_until

STATE_FILE = "state.sqlite"
SERVER_LOG = "server.log"


def write_ini(folder, port, users_file, logging=""):
    """`folder/server-<port>.ini`: QEMU, `users_file`, the state file in `folder`, waitress on
    `port`, then `logging` (INI logging sections) if any."""
    settings = {"virtdancer.libvirt_uri": URI, "virtdancer.users_file": users_file,
                "virtdancer.secret": SECRET, "virtdancer.session.secure": "false",
                "virtdancer.reconnect_max_delay": RECONNECT_MAX_DELAY,
                "virtdancer.state_file": folder / STATE_FILE}
    ini = folder / f"server-{port}.ini"
    ini.write_text(
        "[app:main]\nuse = egg:virtdancer\n"
        + "".join(f"{key} = {value}\n" for key, value in settings.items())
        + f"\n[server:main]\nuse = egg:virtdancer#waitress\nlisten = 127.0.0.1:{port}\n"
        + logging)
    return ini


def start(ini, log_path):
    """Start `pserve ini` (this checkout's VirtDancer), its output appended to `log_path`."""
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    with log_path.open("ab") as log:
        return subprocess.Popen([str(Path(sys.executable).parent / "pserve"), str(ini)],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                env=environment)


def wait_answering(process, port, log_path):
    """Wait until the process at `port` answers HTTP; fail, with its log, if it exits first."""
    def answers():
        try:
            return Client(port).ask("GET", "/session")[0] == 200
        except OSError:
            return process.poll() is not None
    assert wait_until(answers, 120, interval=0.2) and process.poll() is None, (
        log_path.read_text(encoding="utf-8", errors="replace"))


class Client:
    """HTTP to one port, as a script (HTTP Basic) or as a browser (session cookie + CSRF)."""

    def __init__(self, port, credentials=None):
        """`credentials`: (user, password) for HTTP Basic, or None."""
        self.port = port
        self.basic = None if credentials is None else "Basic " + b64encode(
            ":".join(credentials).encode()).decode()
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

    def log_in(self, user, password):
        status, headers, answer = self.ask("POST", "/login",
                                           {"username": user, "password": password})
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
