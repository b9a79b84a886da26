"""Storage pools' and networks' events from a real host: a dir pool and an isolated network
changed behind VirtDancer's back (virsh) reach the event channel of those who see the host,
and never that of a user whose hosts leave it out.

Everything made here is named `h10-live-<pid>-<hex>`.
"""

import asyncio
import os
import secrets

import pytest
import webtest
from websockets.asyncio.client import connect

from virtdancer.security.passwords import hash_password

from ..conftest import SECRET, close_app, make_app
from .conftest import URI, virsh
from .test_live_events import ORIGIN, channel_url, wait_for


@pytest.fixture
def names():
    tag = f"h10-live-{os.getpid()}-{secrets.token_hex(2)}"
    made = {"pool": f"{tag}-pool", "network": f"{tag}-net"}
    yield made
    virsh("pool-destroy", made["pool"], check=False)
    virsh("pool-undefine", made["pool"], check=False)
    virsh("net-destroy", made["network"], check=False)
    virsh("net-undefine", made["network"], check=False)
    assert made["pool"] not in virsh("pool-list", "--all", "--name").split()
    assert made["network"] not in virsh("net-list", "--all", "--name").split()


@pytest.fixture
def live_app(tmp_path):
    """admin; a tenant limited to some VMs (who reads the host's pools and networks); `away`,
    whose hosts leave this one out. Every password is `pw`."""
    users = tmp_path / "users.ini"
    password = hash_password("pw")
    users.write_text(f"[admin]\npassword = {password}\nrole = admin\nvms = all\n"
                     f"[tenant]\npassword = {password}\nrole = operator\nprefix = h10-live-\n"
                     f"[away]\npassword = {password}\nrole = admin\nvms = all\nhosts = lab\n")
    app = make_app(**{"virtdancer.hosts": f"default = {URI}\nlab = test:///default",
                      "virtdancer.users_file": str(users), "virtdancer.secret": SECRET,
                      "virtdancer.console.listen": "127.0.0.1:0"})
    yield app
    close_app(app)


def about(kind, name, event):
    return lambda message: (message["type"], message.get(kind), message.get("event")) == (
        kind, name, event)


def network_xml(tmp_path, name):
    """An isolated network without DHCP, on a bridge of its own."""
    xml = tmp_path / f"{name}.xml"
    bridge = f"vdh10{secrets.token_hex(2)}"
    xml.write_text(f"<network><name>{name}</name><bridge name='{bridge}'/>"
                   "<ip address='10.232.110.1' netmask='255.255.255.0'/></network>")
    return str(xml)


def test_virsh_pool_and_network_changes_are_events(live_app, names, tmp_path):
    pool, network = names["pool"], names["network"]
    (tmp_path / "pool").mkdir()
    network_file = network_xml(tmp_path, network)

    async def scenario():
        async with connect(channel_url(live_app, "tenant"), origin=ORIGIN,
                           proxy=None) as tenant, \
                connect(channel_url(live_app, "away"), origin=ORIGIN, proxy=None) as away:
            for command in (("pool-define-as", pool, "dir", "--target", str(tmp_path / "pool")),
                            ("pool-start", pool), ("pool-refresh", pool),
                            ("pool-destroy", pool), ("pool-undefine", pool),
                            ("net-define", network_file), ("net-start", network),
                            ("net-destroy", network), ("net-undefine", network)):
                await asyncio.to_thread(virsh, *command)
            received = await wait_for(tenant, about("network", network, "undefined"))
            # `away` sees the lab host only: a lab event is the last it could be offered.
            await asyncio.to_thread(lambda: admin(live_app).post_json(
                "/hosts/lab/pools/default-pool/action", {"action": "refresh"}))
            missed = await wait_for(away, about("pool", "default-pool", "refreshed"))
            return received, missed

    received, missed = asyncio.run(scenario())
    pools = [message["event"] for message in received
             if message["type"] == "pool" and message["pool"] == pool]
    networks = [message["event"] for message in received
                if message["type"] == "network" and message["network"] == network]
    assert pools == ["defined", "started", "refreshed", "stopped", "undefined"]
    assert networks == ["defined", "started", "stopped", "undefined"]
    assert all(message["vm"] is None and message["host"] == "default"
               for message in received if message["type"] in ("pool", "network"))
    assert all(message["host"] == "lab" for message in missed)


def admin(app):
    client = webtest.TestApp(app)
    client.authorization = ("Basic", ("admin", "pw"))
    return client
