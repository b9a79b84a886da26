"""A domain's OS type, "updated" flag, persistence and description are asked of libvirt once,
and again after whatever may change them: an event, VirtDancer's own change, a reconnection."""

import pytest

from virtdancer.hypervisor.events import DomainEvent
from virtdancer.hypervisor.facts import DomainFacts

from .test_device_cache import FakeHost


class FakeDomain:
    """Answers like a libvirt domain, counting the questions; `during` runs inside each."""

    def __init__(self):
        self.asked = []
        self.during = None

    def _answer(self, question, value):
        self.asked.append(question)
        if self.during is not None:
            self.during()
        return value

    def OSType(self):
        return self._answer("OSType", "hvm")

    def isUpdated(self):
        return self._answer("isUpdated", 1)

    def isPersistent(self):
        return self._answer("isPersistent", 1)

    def metadata(self, kind, uri, flags):
        return self._answer("metadata", "a web server")


def ask_all(facts, dom, domain_id=3, persistent=True):
    return (facts.os_type(dom, "u"), facts.updated(dom, "u", domain_id),
            facts.persistent(dom, "u"), facts.description(dom, "u", persistent))


ALL = ["OSType", "isUpdated", "isPersistent", "metadata"]


def test_each_fact_is_asked_once_while_nothing_changes():
    facts, dom = DomainFacts(FakeHost()), FakeDomain()
    assert ask_all(facts, dom) == ("hvm", True, True, "a web server")
    assert ask_all(facts, dom) == ("hvm", True, True, "a web server")
    assert dom.asked == ALL


@pytest.mark.parametrize("change", [
    lambda facts: facts.on_domain_event(DomainEvent("default", "u", "vm", "started", 0)),
    lambda facts: facts.on_domain_changed("U"),     # VirtDancer's edit (any case)
    lambda facts: facts.on_connected(),             # events may have been missed
], ids=["event", "changed", "reconnected"])
def test_a_change_asks_every_fact_again(change):
    facts, dom = DomainFacts(FakeHost()), FakeDomain()
    ask_all(facts, dom)
    change(facts)
    ask_all(facts, dom)
    assert dom.asked == ALL + ALL


def test_a_change_to_every_domains_volumes_keeps_the_facts():
    facts, dom = DomainFacts(FakeHost()), FakeDomain()
    ask_all(facts, dom)
    facts.on_domain_changed(None)       # a volume resized: no fact depends on it
    ask_all(facts, dom)
    assert dom.asked == ALL


def test_updated_is_asked_again_for_a_new_domain_id_and_the_description_for_a_new_source():
    facts, dom = DomainFacts(FakeHost()), FakeDomain()
    ask_all(facts, dom, domain_id=3, persistent=True)
    ask_all(facts, dom, domain_id=4, persistent=False)
    assert dom.asked == ALL + ["isUpdated", "metadata"]


@pytest.mark.parametrize("events, change_events, asked_again", [
    (False, False, ALL),
    (True, False, ["metadata"]),        # no metadata event: the description may change unseen
])
def test_without_the_events_that_tell_a_change_a_fact_is_asked_each_time(events, change_events,
                                                                       asked_again):
    host = FakeHost()
    host.events_supported, host.change_events_supported = events, change_events
    facts, dom = DomainFacts(host), FakeDomain()
    ask_all(facts, dom)
    ask_all(facts, dom)
    assert dom.asked == ALL + asked_again


@pytest.mark.parametrize("change", [
    lambda facts: facts.forget("u"),
    lambda facts: facts.on_connected(),
], ids=["event", "reconnected"])
def test_a_fact_read_while_its_domain_changed_is_not_kept(change):
    facts, dom = DomainFacts(FakeHost()), FakeDomain()
    dom.during = lambda: change(facts)   # libvirt answered, then the change came
    facts.os_type(dom, "u")
    dom.during = None
    facts.os_type(dom, "u")
    facts.os_type(dom, "u")
    assert dom.asked == ["OSType", "OSType"]
