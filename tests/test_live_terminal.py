"""`virtdancer events INI`: the hosts' live events in a terminal."""

import json

from virtdancer import cli
from virtdancer.live.hub import EventHub
from virtdancer.live.terminal import in_words, watch

from .conftest import DEMO_URI, LAB_URI
from .test_cli import logging_as_it_was  # noqa: F401  (an autouse fixture)

TWO_HOSTS_INI = """\
[app:main]
use = egg:virtdancer
virtdancer.hosts =
    demo = {demo}
    lab = {lab}
"""


def two_hosts(tmp_path):
    path = tmp_path / "virtdancer.ini"
    path.write_text(TWO_HOSTS_INI.format(demo=DEMO_URI, lab=LAB_URI))
    return str(path)


def test_events_prints_the_chosen_hosts_events_only(tmp_path, capsys):
    assert cli.main(["events", two_hosts(tmp_path), "--host", "lab", "--count", "1"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert line.endswith("  lab  -  host connected")


def test_events_prints_json_as_the_channel_sends_it(tmp_path, capsys):
    assert cli.main(["events", two_hosts(tmp_path), "--json", "--count", "2"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(event["host"] for event in events) == ["demo", "lab"]
    assert {(event["type"], event["state"], event["vm"]) for event in events} == {
        ("host", "connected", None)}


def test_events_refuses_a_host_the_ini_file_does_not_name(tmp_path, capsys):
    assert cli.main(["events", two_hosts(tmp_path), "--host", "nowhere"]) == 2
    assert "no host 'nowhere'" in capsys.readouterr().err


def test_a_lifecycle_event_in_words():
    event = {"time": 0, "host": "demo", "type": "lifecycle", "vm": {"uuid": "u", "name": "web-1"},
             "event": "stopped", "detail": "destroyed", "state_name": "shut off"}
    assert in_words(event).endswith("  demo  web-1  stopped (destroyed): shut off")


def test_watch_stops_when_told(tmp_path):
    hub = EventHub()
    output = (tmp_path / "out").open("w")
    assert watch(hub, output, stop=lambda: True) == 0
    assert hub.subscribers == 0
