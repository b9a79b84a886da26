"""The process-wide libvirt event loop.

Keepalive probes, close callbacks and domain events are all delivered by libvirt's event loop,
which must be registered before the first connection is opened and then run forever on a thread
of its own. One loop serves every connection of the process.
"""

import logging
import threading

import libvirt

log = logging.getLogger(__name__)

_lock = threading.Lock()
_thread = None


def _silence_stderr(_opaque, _error):
    # libvirt prints every error to stderr unless a handler is set; VirtDancer logs the errors
    # it cares about itself, with context.
    pass


def _run_forever():
    while True:
        try:
            libvirt.virEventRunDefaultImpl()
        except Exception:  # pragma: no cover - a failing iteration must not end the loop
            log.exception("libvirt event loop iteration failed")


def ensure_running():
    """Register and start the default event loop once per process."""
    global _thread
    with _lock:
        if _thread is not None:
            return
        libvirt.registerErrorHandler(_silence_stderr, None)
        libvirt.virEventRegisterDefaultImpl()
        _thread = threading.Thread(target=_run_forever, name="virtdancer-libvirt-events",
                                   daemon=True)
        _thread.start()
