"""schemathesis over every operation of GET /openapi.json, as each demo user.

A fresh demo server per role (development.ini's app: the two test-driver hosts and the demo
users, served by waitress on loopback), so that what the admin's run destroys or pauses does
not change what the viewer's or the tenant's run finds. schemathesis runs as its own command
line, with every check (`tests/fuzz/schemathesis.toml`), a fixed seed and a bounded number of
examples per operation; `scripts/fuzz.sh --deep` runs many more before a release.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pyramid.paster import get_appsettings

from ..conftest import Server, close_app, make_app

pytestmark = pytest.mark.fuzz

ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).with_name("schemathesis.toml")
ROLES = {"admin": "admin:admin", "viewer": "viewer:viewer", "tenant": "tenant:tenant"}

# The bounded run CI makes (a few minutes a role on a quiet machine: the API has about
# 150 operations) and the deep one (VIRTDANCER_FUZZ=deep, what `scripts/fuzz.sh --deep` sets).
EXAMPLES = {"quick": 30, "deep": 500}
# Seconds a role's run may take before it fails: room for a loaded machine, still bounded (a
# request that hangs fails at once, on --request-timeout). On a quiet 2-core machine a role takes
# 2-4 minutes; with the machine's load at 12-17 the admin's whole run took 880 s. Three roles at
# the limit still leave CI's 90 minutes room for the other rings.
TIME_LIMIT = {"quick": 1200, "deep": 3600}
DEPTH = os.environ.get("VIRTDANCER_FUZZ", "quick")
# A deep run's examples an operation may be lowered (or raised) to fit the time at hand.
EXAMPLES_SET = os.environ.get("VIRTDANCER_FUZZ_EXAMPLES")
SEED = os.environ.get("VIRTDANCER_FUZZ_SEED", "20260")

# What the fuzz changes of development.ini's app, and why:
FUZZ_SETTINGS = {
    # schemathesis sends wrong and missing credentials on purpose (its ignored_auth check) and
    # fuzzes POST /login: the throttle would soon answer 429 to the real ones too.
    "virtdancer.login.max_failures_per_user": "1000000",
    "virtdancer.login.max_failures_per_address": "1000000",
    "virtdancer.login.max_failures_per_name": "1000000",
    "virtdancer.tokens.max_failures_per_address": "1000000",
}


@pytest.fixture
def demo_server():
    """development.ini's app on a free port, its console proxy on another."""
    if DEPTH not in EXAMPLES:
        pytest.fail(f"VIRTDANCER_FUZZ={DEPTH!r}: quick or deep", pytrace=False)
    # Port 0: the proxy binds a free port itself and its URLs name it. A port found free
    # and let go first may be taken by another process's connection before the proxy binds.
    settings = {**get_appsettings(str(ROOT / "development.ini")), **FUZZ_SETTINGS,
                "virtdancer.console.listen": "127.0.0.1:0"}
    app = make_app(**settings)
    server = Server(app)
    yield server
    server.close()
    close_app(app)


def schemathesis_command():
    found = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert found, "schemathesis is missing: scripts/setup.sh installs it (setup.py, testing)"
    return found


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_holds_to_the_document(role, demo_server, tmp_path):
    command = [
        schemathesis_command(), "--no-color", "--config-file", str(CONFIG),
        "run", demo_server.url + "openapi.json",
        "--auth", ROLES[role],
        "--max-examples", EXAMPLES_SET or str(EXAMPLES[DEPTH]), "--seed", SEED,
        "--generation-database", "none", "--workers", "1",
        "--request-timeout", "10",
    ]
    # Its cassettes and crash files go to the test's own folder, not into the repository.
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True,
                         timeout=TIME_LIMIT[DEPTH], stdin=subprocess.DEVNULL)
    report = run.stdout + run.stderr
    (tmp_path / "schemathesis.txt").write_text(report)
    assert run.returncode == 0, f"schemathesis as {role} failed:\n{report[-20000:]}"
