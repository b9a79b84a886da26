"""Interfaces under which VirtDancer's services are registered, so tests and hosts can swap them."""

from zope.interface import Interface


class IHypervisor(Interface):
    """The hypervisor service: a supervised connection to one libvirt host and its fleet."""


class IConsole(Interface):
    """Console tokens and the whereabouts of the console proxy."""
