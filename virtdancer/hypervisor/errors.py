"""What can go wrong below the views, in words the views can answer with.

The hypervisor service turns every libvirt error into one of these, so that nothing above it
needs to know libvirt's error codes and no libvirt error ever reaches the user as a 500.
"""


class HypervisorError(Exception):
    """Base of every error the hypervisor service raises."""

    status = 502

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class HostUnavailable(HypervisorError):
    """libvirtd cannot be reached right now; the supervisor is reconnecting."""

    status = 503

    def __init__(self, message, retry_after=1):
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class NoSuchDomain(HypervisorError):
    """No domain with this UUID exists on the host."""

    status = 404


class InvalidState(HypervisorError):
    """The action cannot be run while the domain is in its current state."""

    status = 409

    def __init__(self, message, action, state, state_name):
        super().__init__(message)
        self.action = action
        self.state = state
        self.state_name = state_name


class HypervisorFailure(HypervisorError):
    """libvirt refused or failed for another reason; its message is kept."""

    status = 502
