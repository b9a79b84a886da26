"""examples/watch_events.py: a script that prints the live events, against a served app."""

import subprocess
import sys
import time
from pathlib import Path

import requests

from .conftest import WEB_1, Server, close_app, make_app

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "watch_events.py"


def test_the_example_prints_an_event_a_script_caused(tmp_path):
    app = make_app(**{"virtdancer.console.listen": "127.0.0.1:0"})
    server = Server(app)
    output = tmp_path / "output"
    try:
        with output.open("w") as out:
            process = subprocess.Popen([sys.executable, str(EXAMPLE), server.url, "--user",
                                        "tenant:tenant", "--count", "1"],
                                       stdin=subprocess.DEVNULL, stdout=out,
                                       stderr=subprocess.STDOUT)
        try:
            # Pause and resume web-1 until the script has printed its one event.
            deadline = time.monotonic() + 30
            for action in ["pause", "resume"] * 50:
                if process.poll() is not None or time.monotonic() > deadline:
                    break
                requests.post(f"{server.url}vm/{WEB_1}/action", json={"action": action},
                              auth=("tenant", "tenant"), timeout=10)
                time.sleep(0.3)
            assert process.wait(timeout=10) == 0, output.read_text()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
    finally:
        server.close()
        close_app(app)
    [line] = output.read_text().splitlines()
    # The first event of the action: libvirt's (through the feed) or the audit trail's record of
    # it (through the trail's writer), whichever thread publishes first.
    assert ("  default  web-1  lifecycle  " in line and '"event": "' in line) or (
        "  default  web-1  audit  " in line and '"user": "tenant"' in line), line
