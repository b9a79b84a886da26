"""The real-hypervisor ring: VirtDancer against libvirtd's QEMU driver at qemu:///system.

Every test here is marked `hypervisor` (deselect the ring with `-m "not hypervisor"`). The ring
needs a running libvirtd (scripts/start-libvirtd.sh starts one): without it the tests are
skipped, except on CI (CI=true), where a missing libvirtd is a failure, not a reason to skip.

Test VMs are tiny disk-less QEMU domains (software emulation, so no /dev/kvm is needed; ACPI
on, so that shutdown and reboot are requests a guest could honour) named
`vdtest-<pid>-<random>`, after the pytest process that defined them, so that a later run can
tell leftovers of a crashed run (their PID is gone) from domains of a run still going on.

A second host (issue 11, many hosts) is a libvirtd of its own with its own host UUID, reached
over TCP on loopback at SECOND_URI (scripts/start-second-libvirtd.sh starts it). Only tests that
ask for the `second_host` fixture need it, gated as the ring is: skipped without it, a failure
on CI.
"""

import os
import secrets
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..processes import free_port, stop

URI = "qemu:///system"
REPO_ROOT = Path(__file__).resolve().parents[2]
START_LIBVIRTD = REPO_ROOT / "scripts" / "start-libvirtd.sh"
LIBVIRTD_PIDFILE = Path("/var/run/libvirtd.pid")

SECOND_URI = "qemu+tcp://127.0.0.1:16519/system"
SECOND_HOST_UUID = "76697274-6461-6e63-6572-000000000002"   # host_uuid in its libvirtd.conf
START_SECOND_LIBVIRTD = REPO_ROOT / "scripts" / "start-second-libvirtd.sh"
SECOND_LIBVIRTD_PIDFILE = Path("/run/virtdancer-second.pid")

NAME_PREFIX = "vdtest-"
MEMORY_KIB = 32 * 1024     # 32 MiB, as the domain XML says
VCPUS = 2                  # not libvirt's default of 1, so a wrong count cannot pass by chance
RECONNECT_MAX_DELAY = 1    # seconds; keeps the fault test's recovery fast

# Generous: defining or starting a domain makes libvirtd look up (and on some machines re-probe)
# QEMU's capabilities, which takes seconds, and longer while other clients do the same.
VIRSH_TIMEOUT = 300
# How long a test's clean-up waits for a libvirtd that does not answer (restarting, say).
CLEANUP_PATIENCE = 60

# virDomainState values, as the API reports them in info.state.
RUNNING, PAUSED, SHUT_OFF = 1, 3, 5

_THIS_DIR = Path(__file__).resolve().parent


# -- marking and gating --------------------------------------------------------------------

def pytest_collection_modifyitems(config, items):
    """Mark every test of this directory `hypervisor` (this hook sees the whole session)."""
    for item in items:
        if _THIS_DIR in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.hypervisor)


def _on_ci():
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def libvirtd_problem(uri=URI):
    """None if the libvirtd at `uri` answers, else why not."""
    try:
        result = subprocess.run(["virsh", "-c", uri, "version"], capture_output=True,
                                text=True, timeout=15)
    except FileNotFoundError:
        return "virsh is not installed"
    except subprocess.TimeoutExpired:
        return f"virsh -c {uri} version did not answer within 15 s"
    if result.returncode != 0:
        return f"virsh -c {uri} version failed: {result.stderr.strip() or result.stdout.strip()}"
    return None


def unavailable(message):
    """Skip a test whose part of the machine is missing; on CI, fail it: the ring must run."""
    if _on_ci():
        pytest.fail(f"CI=true, so the real-hypervisor ring must run: {message}", pytrace=False)
    pytest.skip(message)


def _require_libvirtd(uri, start_script):
    """Skip without the libvirtd at `uri`, or fail on CI; then clear earlier runs' leftovers."""
    problem = libvirtd_problem(uri)
    if problem is not None:
        message = (f"libvirtd is not reachable at {uri} ({problem}); "
                   f"start it with {start_script.relative_to(REPO_ROOT)}")
        unavailable(message)
    remove_leftover_domains(uri)


@pytest.fixture(scope="session", autouse=True)
def libvirtd_reachable():
    """The main libvirtd at qemu:///system, which every test of the ring needs."""
    _require_libvirtd(URI, START_LIBVIRTD)


@pytest.fixture(scope="session")
def second_host():
    """The second libvirtd at SECOND_URI, for the tests that need two hosts: its URI."""
    _require_libvirtd(SECOND_URI, START_SECOND_LIBVIRTD)
    return SECOND_URI


# -- virsh ---------------------------------------------------------------------------------

def virsh(*args, check=True, timeout=VIRSH_TIMEOUT, uri=URI):
    """Run `virsh -c URI ARGS` (qemu:///system unless told); its stdout, stripped."""
    result = subprocess.run(["virsh", "-c", uri, *args], capture_output=True, text=True,
                            timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"virsh -c {uri} {' '.join(args)} failed ({result.returncode}): "
                             f"{result.stderr.strip()}")
    return result.stdout.strip()


def domstate(name, uri=URI):
    """What `virsh domstate` says: "running", "paused", "shut off", ..."""
    return virsh("domstate", name, uri=uri)


def domain_names(uri=URI):
    return set(virsh("list", "--all", "--name", uri=uri).split())


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_leftover_domains(uri=URI):
    """Destroy and undefine `vdtest-` domains whose pytest process is gone (crashed runs)."""
    for name in domain_names(uri):
        if not name.startswith(NAME_PREFIX):
            continue
        owner = name[len(NAME_PREFIX):].split("-", 1)[0]
        if owner.isdigit() and (int(owner) == os.getpid() or _pid_alive(int(owner))):
            continue  # ours, or a run still going on
        remove_domain(name, uri)


def remove_domain(name, uri=URI):
    """Destroy `name` if it runs, undefine it if it is persistent; quiet if it is gone."""
    virsh("destroy", name, check=False, uri=uri)
    virsh("undefine", name, check=False, uri=uri)


# -- test VMs ------------------------------------------------------------------------------

def domain_xml(name):
    return f"""\
<domain type='qemu'>
  <name>{name}</name>
  <memory unit='KiB'>{MEMORY_KIB}</memory>
  <currentMemory unit='KiB'>{MEMORY_KIB}</currentMemory>
  <vcpu>{VCPUS}</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
  </os>
  <features>
    <acpi/>
  </features>
  <devices>
    <graphics type='vnc' autoport='yes' listen='127.0.0.1'/>
  </devices>
</domain>
"""


@dataclass
class TestVM:
    """A test domain: its name and UUID, and what virsh says about it on its host."""

    __test__ = False  # not a test class, whatever its name

    name: str
    uuid: str
    uri: str = URI

    def state(self):
        return domstate(self.name, self.uri)

    def domid(self):
        """The running domain's ID as virsh reports it (virsh says "-" when shut off)."""
        value = virsh("domid", self.name, uri=self.uri)
        return -1 if value == "-" else int(value)


@pytest.fixture
def make_vm(tmp_path):
    """`make_vm(start=False, transient=False, uri=URI)` defines a tiny test VM on the host at
    `uri` (qemu:///system unless told); all are removed after.

    A transient VM is created with `virsh create` (so it is running); a persistent one is
    defined with `virsh define` and, with start=True, started with `virsh start`.
    """
    made = []   # (uri, name)

    def make(start=False, transient=False, uri=URI):
        name = f"{NAME_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
        xml_file = tmp_path / f"{name}.xml"
        xml_file.write_text(domain_xml(name))
        made.append((uri, name))  # before virsh runs: clean up even if it half-succeeds
        virsh("create" if transient else "define", str(xml_file), uri=uri)
        if start and not transient:
            virsh("start", name, uri=uri)
        return TestVM(name=name, uuid=virsh("domuuid", name, uri=uri), uri=uri)

    yield make
    for uri in {uri for uri, _ in made}:
        # Another run on this machine may be restarting that libvirtd right now: wait for it,
        # or its QEMU processes, which outlive it, would be left running.
        wait_until(lambda: libvirtd_problem(uri) is None, CLEANUP_PATIENCE, interval=0.5)
    for uri, name in made:
        remove_domain(name, uri)
    left = {(uri, name) for uri, name in made if name in domain_names(uri)}
    assert not left, f"test VMs not cleaned up: {sorted(left)}"


# -- the application -----------------------------------------------------------------------

@pytest.fixture
def app_settings():
    """The ring's app (fixtures app, testapp, hypervisor of tests/conftest.py) on libvirtd."""
    return {
        "virtdancer.libvirt_uri": URI,
        "virtdancer.reconnect_max_delay": str(RECONNECT_MAX_DELAY),
    }


@pytest.fixture
def pserve():
    """`pserve(folder, users_file, logging="")` starts this checkout's VirtDancer with `pserve`
    on a free port, its state file and server.log in `folder`, and waits until it answers:
    (process, port). Every one started is stopped after the test."""
    # Imported here, not above: served.py imports this module's names.
    from . import served

    started = []

    def start(folder, users_file, logging=""):
        port = free_port()
        log_path = folder / served.SERVER_LOG
        process = served.start(served.write_ini(folder, port, users_file, logging), log_path)
        started.append(process)     # before the wait: stopped even if it never answers
        served.wait_answering(process, port, log_path)
        return process, port

    yield start
    for process in started:
        stop(process)


# -- libvirtd itself (for the fault test) ---------------------------------------------------

def libvirtd_pid():
    return int(LIBVIRTD_PIDFILE.read_text().strip())


def process_gone(pid):
    """True once `pid` has exited: no such process, or a zombie nobody has reaped yet."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    # The state is the first field after the parenthesised command name.
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def wait_until(condition, timeout, interval=0.1):
    """Poll `condition` until it is true or `timeout` seconds have passed; its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def start_libvirtd(script=START_LIBVIRTD):
    """Run scripts/start-libvirtd.sh (a no-op if libvirtd runs) and fail if it cannot.

    With script=START_SECOND_LIBVIRTD, the same for the second host.
    """
    result = subprocess.run([str(script)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, (
        f"{script} failed ({result.returncode}): "
        f"{result.stdout.strip()} {result.stderr.strip()}")


def second_libvirtd_pid():
    return int(SECOND_LIBVIRTD_PIDFILE.read_text().strip())


def libvirtd_clients_of(pid):
    """IDs of libvirtd's clients that process `pid` connected (needs virt-admin)."""
    listing = subprocess.run(["virt-admin", "srv-clients-list", "libvirtd"], capture_output=True,
                             text=True, timeout=30, check=True).stdout
    ids = [line.split()[0] for line in listing.splitlines()[2:] if line.strip()]
    clients = set()
    for client_id in ids:
        info = subprocess.run(["virt-admin", "client-info", "libvirtd", client_id],
                              capture_output=True, text=True, timeout=30)
        if info.returncode != 0:
            continue  # disconnected meanwhile
        fields = dict(line.split(":", 1) for line in info.stdout.splitlines() if ":" in line)
        if fields.get("unix_process_id", "").strip() == str(pid):
            clients.add(int(client_id))
    return clients
