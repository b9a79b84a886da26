"""Permissions VirtDancer's views declare, and the roles its resources grant them to.

A host portal with its own security policy grants these by giving its users the principals
`role:viewer`, `role:operator` or `role:admin` (see `Root.__acl__`).
"""

from enum import StrEnum


class Permission(StrEnum):
    READ = "vm:read"          # see VMs and their details
    OPERATE = "vm:operate"    # run lifecycle actions, open consoles
    ADMIN = "vm:admin"        # create, delete and edit VMs
    TOKENS = "token:own"      # make, list and revoke one's own API tokens (every role)


# Each role has the permissions of the roles before it.
ROLES = ("viewer", "operator", "admin")
ROLE_PERMISSIONS = {
    "viewer": (Permission.READ, Permission.TOKENS),
    "operator": (Permission.READ, Permission.OPERATE, Permission.TOKENS),
    "admin": (Permission.READ, Permission.OPERATE, Permission.ADMIN, Permission.TOKENS),
}


def role_principal(role):
    return f"role:{role}"


def limited_by_filters(identity):
    """Whether users-file filters limit `identity` to some VMs or some hosts. What reaches the
    whole host (a domain's XML, every DHCP lease of a network) is for unlimited admins only.
    A portal's own identities carry no filters: its security decides for itself."""
    return not getattr(identity, "all_vms", True) or getattr(identity, "hosts", None) is not None
