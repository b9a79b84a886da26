"""Writing a volume's bytes: an upload streamed into it, or a copy of another volume.

Both run as tasks (minutes for gigabytes), so each has a check that refuses at once what the
work would refuse (a name taken, no room, a volume in use), and the work itself, which checks
again (a task starts a while after its request was checked) and undoes what it made when it
fails. Neither knows of tasks: the work is given how to report progress and how to learn that
it should stop.
"""

import xml.etree.ElementTree as ET

import libvirt

from .errors import HypervisorError, InvalidRequest, Refused
from .storage import (
    VolumesInUse,
    bytes_in_words,
    check_room,
    delete_quietly,
    lookup_volume,
    running_pool,
    shown_in_details,
    users_by_path,
    volume_info,
    volume_xml,
)

CHUNK = 256 * 1024


class PartlyWritten(HypervisorError):
    """An upload into an existing volume stopped half-way: its first bytes are the upload's."""


class Uploads:
    """Uploads into the volumes of one host (a `HostConnection`)."""

    def __init__(self, host):
        self.host = host

    def check(self, pool_name, name, length):
        """Refuse now what `upload` would refuse; answer whether the volume will be made."""
        with self.host.session() as conn:
            return _upload_target(conn, pool_name, name, length)[1]

    @shown_in_details
    def upload(self, pool_name, name, body, length, *, progress, stop_check, chunk=CHUNK):
        """Stream `length` bytes of the file-like `body` into a volume, `chunk` at a time.

        `progress(fraction)` hears of every chunk sent; `stop_check()` raises to stop the
        upload between two chunks. Answers `(VolumeInfo, created)`. A volume that is not there
        is made first (raw, of `length` bytes) and deleted again when the upload fails or is
        stopped; an existing volume that was partly written says so in the error.
        """
        with self.host.session() as conn:
            pool, create = _upload_target(conn, pool_name, name, length)
            vol = (pool.createXML(volume_xml(name, length, "raw"), 0) if create
                   else lookup_volume(pool, name))
            sent = 0
            stream = conn.newStream(0)
            try:
                vol.upload(stream, 0, length, 0)
                while sent < length:
                    stop_check()
                    data = body.read(min(chunk, length - sent))
                    if not data:
                        raise InvalidRequest(f"the body ended {length - sent} bytes before "
                                             f"its Content-Length")
                    _send_all(stream, data)
                    sent += len(data)
                    progress(sent / length)
                stream.finish()
            except BaseException as error:
                try:
                    stream.abort()
                except libvirt.libvirtError:
                    pass
                if create:
                    delete_quietly(vol)
                elif sent:
                    raise PartlyWritten(_partly_written(self.host, conn, error, name, sent,
                                                        length)) from error
                raise
            return volume_info(vol, users_by_path(conn)), create


def _upload_target(conn, pool_name, name, length):
    """`(pool, create)`: where `length` bytes go, refused when they cannot."""
    pool = running_pool(conn, pool_name)
    create = name not in pool.listVolumes()
    if create:
        check_room(pool, length)
        return pool, True
    vol = lookup_volume(pool, name)
    users = users_by_path(conn).get(vol.path())
    if users:
        raise VolumesInUse(pool_name, [(name, users)])
    capacity = vol.info()[1]
    if length > capacity:
        raise InvalidRequest(f"the volume {name} holds {bytes_in_words(capacity)}; "
                             f"the upload of {bytes_in_words(length)} does not fit")
    return pool, False


def _partly_written(host, conn, error, name, sent, length):
    if isinstance(error, libvirt.libvirtError):
        cause = host.translate(conn, error).message
    elif isinstance(error, HypervisorError):
        cause = error.message
    else:
        cause = "the upload was stopped"
    return (f"{cause}; the volume {name} is partly overwritten: its first {bytes_in_words(sent)} "
            f"of the {bytes_in_words(length)} uploaded are the new ones, the rest is as before")


def _send_all(stream, data):
    view = memoryview(data)
    while view:
        sent = stream.send(bytes(view))
        if sent < 0:
            raise libvirt.libvirtError("the stream refused the data")
        view = view[sent:]


class VolumeCopies:
    """Copies of volumes of one host (a `HostConnection`), into the same pool or another."""

    def __init__(self, host):
        self.host = host

    def check(self, pool_name, name, target_pool, new_name, fmt=None):
        """Refuse now what `copy` would refuse: no such pool or volume, a name taken, no room,
        a source a running VM writes to."""
        with self.host.session() as conn:
            _copy_plan(conn, pool_name, name, target_pool, new_name, fmt)

    @shown_in_details
    def copy(self, pool_name, name, target_pool, new_name, fmt=None, *, watch=None):
        """Copy the volume `name` as `new_name` into `target_pool` (its format kept unless
        `fmt`); answer the copy's `VolumeInfo`. `watch(estimate)` is given a callable that
        estimates how far the copy is (the copy's allocation against the original's)."""
        with self.host.session() as conn:
            source, target, xml = _copy_plan(conn, pool_name, name, target_pool, new_name, fmt)
            if watch is not None:
                watch(_estimate(self.host, target_pool, new_name, source.info()[2]))
            copy = target.createXMLFrom(xml, source, 0)
            return volume_info(copy, users_by_path(conn))


def _copy_plan(conn, pool_name, name, target_pool, new_name, fmt):
    """`(source volume, target pool, the copy's XML)`, or the refusal."""
    source = lookup_volume(running_pool(conn, pool_name), name)
    target = running_pool(conn, target_pool)
    if new_name in target.listVolumes():
        raise Refused(f"the pool {target_pool} has a volume named {new_name} already")
    running = [user for user in users_by_path(conn).get(source.path(), ())
               if _runs(conn, user.uuid)]
    if running:
        raise VolumesInUse(pool_name, [(name, tuple(running))])
    _, capacity, allocation = source.info()
    check_room(target, allocation)
    kept = ET.fromstring(source.XMLDesc(0)).find("target/format")
    kind = fmt or (kept.get("type", "raw") if kept is not None else "raw")
    # The copy takes what the original takes, as the room check assumed (not its capacity).
    return source, target, volume_xml(new_name, capacity, kind, allocation)


def _runs(conn, uuid):
    try:
        return bool(conn.lookupByUUIDString(uuid).isActive())
    except libvirt.libvirtError:
        return False        # gone meanwhile: it writes to nothing


def _estimate(host, pool_name, name, wanted):
    """How far a copy is, guessed from its allocation; None before it shows."""
    def estimate():
        if not wanted:
            return None
        conn = host.get()
        vol = conn.storagePoolLookupByName(pool_name).storageVolLookupByName(name)
        return min(0.99, vol.info()[2] / wanted)
    return estimate
