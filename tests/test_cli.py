"""The `virtdancer` command."""

import pytest

from virtdancer import cli

from .test_errors import UNREACHABLE_URI

INI = """\
[app:main]
use = egg:virtdancer
virtdancer.libvirt_uri = {uri}
"""


@pytest.fixture
def ini_file(tmp_path):
    def write(uri):
        path = tmp_path / "virtdancer.ini"
        path.write_text(INI.format(uri=uri))
        return str(path)
    return write


def test_check_reports_the_fleet(ini_file, capsys):
    assert cli.main(["check", ini_file("test:///virtdancer:demo/fleet.xml")]) == 0
    assert capsys.readouterr().out.strip().endswith("fleet.xml: 4 VMs, 3 running")


def test_check_says_why_it_cannot_connect(ini_file, capsys):
    assert cli.main(["check", ini_file(UNREACHABLE_URI)]) == 1
    error = capsys.readouterr().err
    assert "unreachable" in error and "virtdancer-test.sock" in error


def test_a_command_is_required(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([])
    assert exit_info.value.code == 2
