"""`virtdancer console-proxy INI` serves the event channel too, with events from its own
connections to the hosts."""

import asyncio
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from virtdancer.live.tickets import EventTickets

from .conftest import DEMO_URI, DEMO_USERS, SECRET
from .processes import stop, wait_for_listener

REPO = Path(__file__).resolve().parents[1]


def port_said(process, log_file, timeout=30):
    """The port a `console-proxy` says it listens on, once it says so."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        said = re.search(r"console proxy listening on [^\s]+:(\d+)", log_file.read_text())
        if said:
            return int(said.group(1))
        if process.poll() is not None:
            break
        time.sleep(0.1)
    pytest.fail(f"the console proxy said no port: {log_file.read_text()}")


@pytest.fixture
def separate_proxy(tmp_path):
    ini = tmp_path / "proxy.ini"
    ini.write_text("[app:main]\nuse = egg:virtdancer\n"
                   f"virtdancer.libvirt_uri = {DEMO_URI}\n"
                   f"virtdancer.users_file = {DEMO_USERS}\n"
                   f"virtdancer.secret = {SECRET}\n"
                   # The system's choice of port, which the proxy then says: no port is
                   # picked here and let go before the proxy binds it.
                   "virtdancer.console.listen = 127.0.0.1:0\n"
                   "virtdancer.console.proxy = separate\n")
    log_file = tmp_path / "proxy.log"
    with log_file.open("wb") as log:
        # This checkout's code (python -m from its folder), not an installed script's.
        process = subprocess.Popen([sys.executable, "-m", "virtdancer.cli", "console-proxy",
                                    str(ini)], cwd=REPO, stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=log)
    try:
        port = port_said(process, log_file)
        wait_for_listener(process, port, log_file)
        yield port
        assert process.poll() is None, log_file.read_text()
    finally:
        stop(process, timeout=10)
    assert "Traceback" not in log_file.read_text()


def test_the_separate_proxy_tells_the_events_of_its_own_connections(separate_proxy):
    ticket, _ = EventTickets(SECRET).issue(user="tenant", origin="http://localhost",
                                           operates=True)

    async def first_message():
        async with connect(f"ws://127.0.0.1:{separate_proxy}/events?ticket={ticket}&since=0",
                           origin="http://localhost", proxy=None) as websocket:
            return json.loads(await asyncio.wait_for(websocket.recv(), 10))

    # Its own connection to the host was its first event.
    event = asyncio.run(first_message())
    assert (event["seq"], event["type"], event["host"], event["state"]) == (
        1, "host", "default", "connected")
