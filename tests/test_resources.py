"""The traversal tree: location-aware resources, KeyError for what is not there."""

import pytest
from pyramid.testing import DummyRequest
from pyramid.traversal import find_root, resource_path

from virtdancer.interfaces import IHostRegistry
from virtdancer.resources import Domain, Host, Hosts, Root, VMCollection

from .conftest import WEB_1


@pytest.fixture
def root(app):
    request = DummyRequest()
    request.hosts = app.registry.getUtility(IHostRegistry)
    return Root(request)


def test_tree_is_location_aware(root):
    vms = root["hosts"]["default"]["vm"]
    domain = vms[WEB_1]
    assert isinstance(vms, VMCollection) and isinstance(domain, Domain)
    assert resource_path(domain) == f"/hosts/default/vm/{WEB_1}"
    assert find_root(domain) is root
    assert (domain.name, domain.__parent__) == ("web-1", vms)


def test_the_first_virtdancers_vm_and_stats_are_the_default_hosts(root):
    assert isinstance(root["hosts"], Hosts) and isinstance(root["hosts"]["default"], Host)
    assert resource_path(root["vm"]) == "/hosts/default/vm"
    assert resource_path(root["stats"]) == "/hosts/default/stats"
    assert root["vm"][WEB_1].host.name == "default"


@pytest.mark.parametrize("name", ["", "vms", "metrics", "VM", "host", "fleet"])
def test_root_has_only_hosts_and_the_default_hosts_vm_and_stats(root, name):
    with pytest.raises(KeyError):
        root[name]


@pytest.mark.parametrize("name", ["", "Default", "nowhere", "default "])
def test_an_unknown_host_is_a_key_error(root, name):
    with pytest.raises(KeyError):
        root["hosts"][name]


@pytest.mark.parametrize("uuid", [
    "00000000-0000-0000-0000-000000000000",
    "web-1",
    WEB_1 + "0",
    "{" + WEB_1 + "}",
    "urn:uuid:" + WEB_1,
])
def test_unknown_or_malformed_uuid_is_a_key_error(root, uuid):
    with pytest.raises(KeyError):
        root["vm"][uuid]
