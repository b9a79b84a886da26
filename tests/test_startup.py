"""VirtDancer refuses to start, in one line, when it would be unsafe or cannot work."""

import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from virtdancer import cli
from virtdancer.published_secrets import PUBLISHED_SECRETS

from .conftest import make_app

REPO = Path(__file__).resolve().parents[1]
REAL_HOST = "qemu+unix:///system?socket=/nonexistent/virtdancer-test.sock"


def virtdancer_threads():
    return [thread for thread in threading.enumerate() if thread.name.startswith("virtdancer")]


def one_line(capsys):
    [line] = capsys.readouterr().err.splitlines()
    return line


# -- published secrets (finding 15) -----------------------------------------------------------

@pytest.mark.parametrize("secret, where", [(secret, where)
                                            for secret, where in PUBLISHED_SECRETS.items()])
def test_a_published_secret_is_refused_for_a_real_host(capsys, secret, where):
    with pytest.raises(SystemExit) as exit_info:
        make_app(**{"virtdancer.secret": secret, "virtdancer.libvirt_uri": REAL_HOST})
    assert exit_info.value.code == 2
    line = one_line(capsys)
    assert line.startswith("VirtDancer cannot start: virtdancer.secret is the example secret "
                           f"published in {where}")


def test_a_published_secret_is_refused_when_any_listed_host_is_real(capsys):
    [development] = [secret for secret, where in PUBLISHED_SECRETS.items()
                     if where == "development.ini"]
    with pytest.raises(SystemExit):
        make_app(**{"virtdancer.secret": development,
                    "virtdancer.hosts": f"demo = test:///default\nreal = {REAL_HOST}"})
    assert "published in development.ini" in one_line(capsys)


def test_every_secret_the_repository_publishes_is_known():
    published = set()
    for ini in [REPO / "development.ini", *sorted((REPO / "examples").glob("*.ini"))]:
        for line in ini.read_text().splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "virtdancer.secret" and value.strip():
                published.add(value.strip())
    assert published and published <= set(PUBLISHED_SECRETS)


def test_the_demo_fleet_may_use_the_development_secret():
    from .conftest import close_app

    [development] = [secret for secret, where in PUBLISHED_SECRETS.items()
                     if where == "development.ini"]
    close_app(make_app(**{"virtdancer.secret": development}))


# -- a console port in use (also fixed) --------------------------------------------------------

@pytest.fixture
def busy_port():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def test_a_console_port_in_use_is_one_line_naming_the_setting(capsys, busy_port):
    before = virtdancer_threads()
    with pytest.raises(SystemExit) as exit_info:
        make_app(**{"virtdancer.console.listen": f"127.0.0.1:{busy_port}"})
    assert exit_info.value.code == 2
    line = one_line(capsys)
    assert line == (f"VirtDancer cannot start: the console proxy's address 127.0.0.1:{busy_port}"
                    " is in use (is another VirtDancer running?): set "
                    "virtdancer.console.listen to another host:port")
    # The hypervisor service that started before the proxy failed is stopped again.
    for thread in virtdancer_threads():
        if thread not in before:
            thread.join(timeout=5)
    assert [thread for thread in virtdancer_threads() if thread not in before] == []


def test_the_separate_console_proxy_says_so_too(tmp_path, capsys, busy_port):
    ini = tmp_path / "virtdancer.ini"
    ini.write_text("[app:main]\nuse = egg:virtdancer\n"
                   "virtdancer.libvirt_uri = test:///virtdancer:demo/fleet.xml\n"
                   f"virtdancer.users_file = {REPO / 'virtdancer' / 'demo' / 'users.ini'}\n"
                   "virtdancer.secret = a-test-secret-that-is-long-enough-0123456789abcdef\n"
                   f"virtdancer.console.listen = 127.0.0.1:{busy_port}\n")
    assert cli.main(["console-proxy", str(ini)]) == 2
    err = capsys.readouterr().err
    assert f"127.0.0.1:{busy_port} is in use" in err and "Traceback" not in err


def test_a_second_pserve_says_in_one_line_that_the_port_is_in_use(tmp_path, busy_port):
    ini = tmp_path / "second.ini"
    ini.write_text((REPO / "development.ini").read_text()
                   .replace("%(here)s", str(REPO))
                   .replace("127.0.0.1:6544", f"127.0.0.1:{busy_port}")
                   .replace("localhost:6543", "127.0.0.1:0"))
    pserve = Path(sys.executable).with_name("pserve")
    result = subprocess.run([str(pserve), str(ini)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert (f"VirtDancer cannot start: the console proxy's address 127.0.0.1:{busy_port} is in "
            "use") in result.stderr


def test_a_second_pserve_on_a_taken_http_port_says_so_in_one_line(tmp_path, busy_port):
    ini = tmp_path / "second.ini"
    ini.write_text((REPO / "development.ini").read_text()
                   .replace("%(here)s", str(REPO))
                   .replace("127.0.0.1:6544", "127.0.0.1:0")
                   .replace("localhost:6543", f"127.0.0.1:{busy_port}"))
    pserve = Path(sys.executable).with_name("pserve")
    result = subprocess.run([str(pserve), str(ini)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert (f"VirtDancer cannot start: the address 127.0.0.1:{busy_port} is in use (is another "
            "VirtDancer running?): set listen in [server:main] to another host:port"
            ) in result.stderr
