"""The feed of the hosts' libvirt events into the hub: one host's slowness is its own, and a
host's return is never told before its loss."""

import threading
import time

import webtest

from virtdancer.interfaces import IEventFeed, IEventHub, IHostRegistry
from virtdancer.live.hub import QueueSubscription, Viewer

from .conftest import DEMO_URI, LAB_URI, WEB_1, close_app, make_app

WEB_STAGING = "2c8e5f3b-0d46-4a71-9b2e-4f6a8c0d1e66"   # a VM of the lab host


def test_a_host_slow_to_answer_holds_up_its_own_events_only():
    app = make_app(**{"virtdancer.hosts": f"demo = {DEMO_URI}\nlab = {LAB_URI}"})
    release = threading.Event()
    try:
        feed = app.registry.getUtility(IEventFeed)
        answer = feed._state_of

        def stuck(event):   # the demo host takes its time to say the VM's new state
            if event.host == "demo":
                release.wait(10)
            return answer(event)

        feed._state_of = stuck
        hub = app.registry.getUtility(IEventHub)
        subscription = QueueSubscription(Viewer())
        hub.subscribe(subscription)
        admin = webtest.TestApp(app)
        admin.authorization = ("Basic", ("admin", "admin"))
        admin.post_json(f"/vm/{WEB_1}/action", {"action": "pause"})
        admin.post_json(f"/hosts/lab/vm/{WEB_STAGING}/action", {"action": "pause"})

        def next_vm_event():
            # libvirt's, through the feed: an action's audit event is published by its view.
            while (event := subscription.queue.get(timeout=5))["type"] != "lifecycle":
                pass
            return event

        assert next_vm_event()["vm"]["uuid"] == WEB_STAGING    # while demo's is stuck
        release.set()
        assert next_vm_event()["vm"]["uuid"] == WEB_1
    finally:
        release.set()
        close_app(app)


class SlowToHearALoss:
    """A listener that takes its time over a lost connection, and notes every host event."""

    def __init__(self):
        self.told = []
        self.changed = threading.Condition()

    def on_connected(self):
        pass

    def on_domain_event(self, event):
        pass

    def on_host_event(self, event):
        if event.state == "lost":
            time.sleep(0.5)   # the supervisor could reconnect meanwhile
        with self.changed:
            self.told.append(event.state)
            self.changed.notify_all()


def test_a_hosts_return_is_never_told_before_its_loss():
    app = make_app()
    try:
        connection = app.registry.getUtility(IHostRegistry).get("default").connection
        listener = SlowToHearALoss()
        connection.add_listener(listener)
        connection._lost(connection.get(), "a test pulled the plug")
        with listener.changed:
            listener.changed.wait_for(lambda: "connected" in listener.told, 10)
        assert listener.told == ["lost", "connected"]
    finally:
        close_app(app)
