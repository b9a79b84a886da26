"""The permissions VirtDancer's views declare; resources grant them through `__acl__`."""

from enum import StrEnum


class Permission(StrEnum):
    READ = "vm:read"          # see VMs and their details
    OPERATE = "vm:operate"    # run lifecycle actions, open consoles
    ADMIN = "vm:admin"        # create, delete and edit VMs
