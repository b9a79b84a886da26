"""VirtDancer run as a process of its own by a test (`pserve`, `virtdancer console-proxy`):
a port to give it, waiting until it listens, and stopping it by its PID."""

import signal
import socket
import subprocess
import time

import pytest


def free_port():
    """A TCP port nothing listens on now (so that runs side by side cannot collide)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_listener(process, port, log_file, timeout=30):
    """Return once `process` accepts connections on `port`; fail, with its log, if it exits
    first or does not listen within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            pytest.fail(f"{process.args} exited with {process.returncode}: "
                        f"{log_file.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() >= deadline:
                pytest.fail(f"{process.args} did not listen on {port} within {timeout} s: "
                            f"{log_file.read_text()}")
            time.sleep(0.1)


def stop(process, timeout=15):
    """Ctrl-C (the commands' way out), then SIGKILL if it does not exit; nothing if it has."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
