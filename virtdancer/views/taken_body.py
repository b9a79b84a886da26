"""A request's body kept past the request's end, for a task that streams it somewhere.

The WSGI server closes the body's buffer when the request ends, long before a task has sent
gigabytes on. waitress keeps a large body in a temporary file: its file descriptor is
duplicated (no copy; the bytes stay on disk). A body in memory, or of a server that gives no
file, is copied in chunks into a temporary file of VirtDancer's own. Either way memory stays
bounded whatever the size, and closing the taken body frees the file.
"""

import io
import os
import stat
import tempfile
import weakref

CHUNK = 256 * 1024


class BodyTooShort(Exception):
    """The body ended before its Content-Length."""


class TakenBody:
    """`length` bytes of an open file from `offset` on, read with `read(size)`."""

    def __init__(self, fd, offset, length):
        self._fd = fd
        self._offset = offset
        self._left = length
        self.length = length
        # A task cancelled before it ran never reads nor closes its body: dropped, it is freed.
        self._closer = weakref.finalize(self, os.close, fd)

    def read(self, size):
        # pread: the position of a duplicated descriptor is shared with the server's file.
        if self._fd is None or self._left <= 0:
            return b""
        data = os.pread(self._fd, min(size, self._left), self._offset)
        self._offset += len(data)
        self._left -= len(data)
        return data

    def close(self):
        self._fd = None
        self._closer()


def take_body(environ, length, chunk=CHUNK):
    """The request's `length` bytes (its Content-Length) as a `TakenBody`."""
    source = environ["wsgi.input"]
    fd = _regular_file(source)
    if fd is not None:
        taken = os.dup(fd)
        try:
            offset = source.tell()
            if os.fstat(taken).st_size - offset < length:
                raise BodyTooShort(length)
        except BaseException:
            os.close(taken)
            raise
        return TakenBody(taken, offset, length)
    with tempfile.TemporaryFile() as copy:
        left = length
        while left > 0:
            data = source.read(min(chunk, left))
            if not data:
                raise BodyTooShort(length)
            copy.write(data)
            left -= len(data)
        copy.flush()
        return TakenBody(os.dup(copy.fileno()), 0, length)


def _regular_file(source):
    """The descriptor of `source` when it is a file on disk (a temporary one), else None."""
    try:
        fd = source.fileno()
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None
    try:
        return fd if stat.S_ISREG(os.fstat(fd).st_mode) else None
    except OSError:
        return None
