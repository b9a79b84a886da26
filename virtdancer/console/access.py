"""Whether the user of a console token may still open that VM's console when it connects.

A token is good for a minute; in that minute the user may be removed from the users file, lose
the operator role, or stop seeing the VM (its filters changed). The proxy asks again, with the
users file VirtDancer's own security reads. Under a host portal's own security policy there is
no users file to ask: the token, issued after the portal's permission check, is all there is.
"""

from ..permissions import ROLE_PERMISSIONS, Permission
from .tokens import TokenRefused


class ConsoleAccess:
    def __init__(self, users=None):
        self.users = users

    def check(self, user_name, host_name, vm_name):
        """Raise `TokenRefused` unless `user_name` may still open the console of the VM
        `vm_name` of the host `host_name`."""
        if self.users is None:
            return
        user = self.users.get(user_name)
        if user is None:
            raise TokenRefused("the console token's user no longer exists")
        if Permission.OPERATE not in ROLE_PERMISSIONS[user.role]:
            raise TokenRefused("the console token's user may no longer open consoles")
        if not user.sees_host(host_name) or not user.sees(vm_name):
            raise TokenRefused("the console token's user no longer sees this VM")


def access_of_policy(policy):
    """The `ConsoleAccess` of a security policy: VirtDancer's own has a users file."""
    authenticator = getattr(policy, "authenticator", None)
    return ConsoleAccess(getattr(authenticator, "users", None))
