"""The traversal tree: location-aware resources, KeyError for what is not there."""

import pytest
from pyramid.testing import DummyRequest
from pyramid.traversal import find_root, resource_path

from virtdancer.resources import Domain, Root, VMCollection

from .conftest import WEB_1


@pytest.fixture
def root(hypervisor):
    request = DummyRequest()
    request.hypervisor = hypervisor
    return Root(request)


def test_tree_is_location_aware(root):
    vms = root["vm"]
    domain = vms[WEB_1]
    assert isinstance(vms, VMCollection) and isinstance(domain, Domain)
    assert resource_path(domain) == f"/vm/{WEB_1}"
    assert find_root(domain) is root
    assert (domain.name, domain.__parent__) == ("web-1", vms)


@pytest.mark.parametrize("name", ["", "vms", "metrics", "VM"])
def test_root_has_only_the_vm_collection_and_stats(root, name):
    with pytest.raises(KeyError):
        root[name]


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
