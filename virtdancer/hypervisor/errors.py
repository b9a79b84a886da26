"""What can go wrong below the views, in words the views can answer with.

The hypervisor service turns every libvirt error into one of these, so that nothing above it
needs to know libvirt's error codes and no libvirt error ever reaches the user as a 500. They
say what happened, not how HTTP says it: the views choose the status (views/errors.py).
"""


class HypervisorError(Exception):
    """Base of every error the hypervisor service raises."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class HostUnavailable(HypervisorError):
    """libvirtd cannot be reached right now; the supervisor is reconnecting."""

    def __init__(self, message, retry_after=1):
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class NoSuchDomain(HypervisorError):
    """No domain with this UUID exists on the host."""


class NoSuchStorage(HypervisorError):
    """No storage pool or volume of this name exists on the host."""


class Refused(HypervisorError):
    """Not possible as things are now: the VM's state, a display it lacks, a name in use."""


class InvalidState(Refused):
    """The action cannot be run while the domain is in its current state."""

    def __init__(self, message, action, state, state_name):
        super().__init__(message)
        self.action = action
        self.state = state
        self.state_name = state_name


class DefinitionChanged(HypervisorError):
    """The VM's definition is no longer the one the client edited (someone changed it)."""


class Unsupported(HypervisorError):
    """The host's libvirt driver cannot do this at all (libvirt's test driver cannot upload)."""

    # libvirt's message names the call its driver lacks; the ones a user meets, in words.
    CALLS_IN_WORDS = {
        "virStorageVolResize": "grow a volume",
        "virStorageVolUpload": "write a file into a volume",
        "virStorageVolDownload": "read a volume's content",
    }

    @classmethod
    def from_libvirt(cls, message):
        """What the host cannot do first, then libvirt's own words (they name the call)."""
        call = message.rsplit(":", 1)[-1].strip()
        what = cls.CALLS_IN_WORDS.get(call)
        return cls(f"this host's libvirt driver cannot {what} ({message})" if what else message)


class InvalidRequest(HypervisorError):
    """libvirt refused what it was asked as wrong in itself (invalid XML, a bad argument)."""


class HypervisorFailure(HypervisorError):
    """libvirt refused or failed for another reason; its message is kept."""


class NoSuchNetwork(NoSuchDomain):
    """No virtual network of this name exists on the host (a 404, like a missing domain)."""


class NoSuchDevice(NoSuchDomain):
    """The VM has no such disk, CD-ROM drive or NIC (a 404, like a missing domain)."""
