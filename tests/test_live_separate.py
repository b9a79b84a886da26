"""`virtdancer console-proxy INI` serves the event channel too, with events from its own
connections to the hosts."""

import asyncio
import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from virtdancer.live.tickets import EventTickets

from .conftest import DEMO_URI, DEMO_USERS, SECRET

REPO = Path(__file__).resolve().parents[1]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log_file.read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, log_file.read_text()
                time.sleep(0.1)
        yield port
        assert process.poll() is None, log_file.read_text()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
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
