"""Live events: libvirt's events (and VirtDancer's own) pushed to browsers and scripts.

- `hub`      numbers, keeps and delivers events to whoever may see them (`IEventHub`)
- `feed`     turns each host's typed libvirt events into the hub's messages
- `tickets`  the signed one-time tickets `POST /events` issues
- `channel`  the WebSocket at `/events` on the console proxy's asyncio loop
"""

from ..hypervisor import START_ORDER
from ..interfaces import IEventFeed, IEventHub, IHostRegistry
from ..settings import value
from .feed import HostEventFeed
from .hub import EventHub


def hub_and_feed(settings, hosts):
    """A hub keeping `virtdancer.events.keep` events, and the feed of `hosts`' events into it
    (not started)."""
    hub = EventHub(keep=value(settings, "virtdancer.events.keep"))
    return hub, HostEventFeed(hosts, hub)


def includeme(config):
    """The hub (`request.registry.getUtility(IEventHub)`), fed with every host's events."""
    registry = config.registry
    if registry.queryUtility(IEventHub) is not None:
        return
    hub, feed = hub_and_feed(config.get_settings(), registry.getUtility(IHostRegistry))
    registry.registerUtility(hub, IEventHub)
    registry.registerUtility(feed, IEventFeed)
    config.action(None, feed.start, order=START_ORDER)
