"""`virtdancer console-proxy INI` serves the event channel too, with events from its own
connections to the hosts."""

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from virtdancer.live.tickets import EventTickets

from .conftest import DEMO_URI, DEMO_USERS, SECRET
from .processes import free_port, stop, wait_for_listener

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def separate_proxy(tmp_path):
    port = free_port()
    ini = tmp_path / "proxy.ini"
    ini.write_text("[app:main]\nuse = egg:virtdancer\n"
                   f"virtdancer.libvirt_uri = {DEMO_URI}\n"
                   f"virtdancer.users_file = {DEMO_USERS}\n"
                   f"virtdancer.secret = {SECRET}\n"
                   f"virtdancer.console.listen = 127.0.0.1:{port}\n"
                   "virtdancer.console.proxy = separate\n")
    log_file = tmp_path / "proxy.log"
    with log_file.open("wb") as log:
        # This checkout's code (python -m from its folder), not an installed script's.
        process = subprocess.Popen([sys.executable, "-m", "virtdancer.cli", "console-proxy",
                                    str(ini)], cwd=REPO, stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=log)
    try:
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
