"""Interfaces under which VirtDancer's services are registered, so tests and hosts can swap them."""

from zope.interface import Interface


class IHypervisor(Interface):
    """The hypervisor service of one libvirt host: its supervised connection and its fleet.

    Registered for the default host (the one the first VirtDancer's URLs mean)."""


class IHostRegistry(Interface):
    """Every host VirtDancer manages, by name: one hypervisor service each."""


class IConsole(Interface):
    """Console tokens and the whereabouts of the console proxy."""


class IStateStore(Interface):
    """The SQLite database of what must survive a restart (virtdancer/state.py)."""


class IApiTokens(Interface):
    """The API tokens of VirtDancer's own users (virtdancer/security/tokens.py)."""


class IEventHub(Interface):
    """Live events: `publish(type, host, vm=None, **fields)` from any thread, delivered to
    every open event channel whose user sees them (virtdancer/live/hub.py)."""


class IEventFeed(Interface):
    """What turns the hosts' libvirt events into the hub's (virtdancer/live/feed.py)."""
