"""libvirt's events leave each host's connection typed, for every listener of the registry."""

import threading
import time

import pytest
import webtest

from virtdancer.hypervisor.events import DomainEvent, HostEvent
from virtdancer.interfaces import IHostRegistry

from .conftest import DEMO_URI, LAB_URI, WEB_1, close_app, make_app

WEB_STAGING = "2c8e5f3b-0d46-4a71-9b2e-4f6a8c0d1e66"


class Recorder:
    """An events.IEventListener that keeps what it is told."""

    def __init__(self):
        self.events = []
        self.changed = threading.Condition()

    def _keep(self, event):
        with self.changed:
            self.events.append(event)
            self.changed.notify_all()

    def on_connected(self):
        self._keep("connected")

    def on_domain_event(self, event):
        self._keep(event)

    def on_host_event(self, event):
        self._keep(event)

    def wait_for(self, wanted, timeout=5):
        with self.changed:
            self.changed.wait_for(lambda: any(wanted(event) for event in self.events), timeout)
            return [event for event in self.events if wanted(event)]


@pytest.fixture
def app_and_events():
    app = make_app(**{"virtdancer.hosts": f"demo = {DEMO_URI}\nlab = {LAB_URI}"})
    recorder = Recorder()
    app.registry.getUtility(IHostRegistry).add_listener(recorder)
    yield app, recorder
    close_app(app)


def test_an_action_is_told_as_a_typed_domain_event_of_its_host(app_and_events):
    app, recorder = app_and_events
    admin = webtest.TestApp(app)
    admin.authorization = ("Basic", ("admin", "admin"))
    admin.post_json(f"/vm/{WEB_1}/action", {"action": "pause"})
    admin.post_json(f"/hosts/lab/vm/{WEB_STAGING}/action", {"action": "destroy"})
    [paused] = recorder.wait_for(lambda event: isinstance(event, DomainEvent)
                                 and event.uuid == WEB_1)
    assert (paused.host, paused.name, paused.event) == ("demo", "web-1", "suspended")
    [stopped] = recorder.wait_for(lambda event: isinstance(event, DomainEvent)
                                  and event.uuid == WEB_STAGING)
    assert (stopped.host, stopped.name, stopped.event) == ("lab", "web-staging", "stopped")
    assert isinstance(stopped.detail, int)


def test_a_lost_connection_and_its_return_are_told_as_host_events(app_and_events):
    app, recorder = app_and_events
    connection = app.registry.getUtility(IHostRegistry).get("lab").connection
    connection._lost(connection.get(), "a test pulled the plug")
    [lost] = recorder.wait_for(lambda event: isinstance(event, HostEvent)
                               and event.state == "lost")
    assert lost == HostEvent("lab", "lost", "a test pulled the plug")
    deadline = time.monotonic() + 10
    back = []
    while not back and time.monotonic() < deadline:
        back = recorder.wait_for(lambda event: event == HostEvent("lab", "connected"), 1)
    assert back and "connected" in recorder.events
