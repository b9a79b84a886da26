"""A WSGI access log: one line per request, at INFO, on the logger `virtdancer.access`.

    127.0.0.1 "GET /virt/vm" 200 1234 3.2ms

Each line has the client's address, the method, the path, the status, the bytes of the body
sent and the time from the request to the last byte. The path is SCRIPT_NAME and PATH_INFO, so
it keeps the prefix VirtDancer is mounted at; never the query string, which may carry a token,
nor any header (Authorization, Cookie). Behind a reverse proxy, the address is the client's when
waitress trusts the proxy's X-Forwarded-For (see examples/behind-proxy.ini).

It is a PasteDeploy filter (`use = egg:virtdancer#accesslog` in a pipeline, see production.ini)
and plain WSGI middleware (`AccessLog(app)`); it wraps any WSGI application, not only VirtDancer.
"""

import logging
import time
from urllib.parse import quote

log = logging.getLogger("virtdancer.access")

# Characters a path may show as they are; anything else (spaces, newlines, quotes that would
# let a request forge log lines) is percent-encoded.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


def _printable(text, safe):
    """`text` (a WSGI "bytes as latin-1" string) percent-encoded as a URL would be."""
    return quote(text.encode("latin-1", "replace"), safe=safe)


class AccessLog:
    """WSGI middleware logging every request that goes through it."""

    def __init__(self, app, logger=log):
        self.app = app
        self.logger = logger

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        line = _Line(self.logger, environ, started)

        def logging_start_response(status, headers, exc_info=None):
            line.status = status.split(" ", 1)[0]
            write = start_response(status, headers, exc_info)

            def counting_write(data):
                line.sent += len(data)
                return write(data)
            return counting_write

        try:
            body = self.app(environ, logging_start_response)
        except BaseException:
            line.status = line.status or "500"
            line.emit()
            raise
        return _LoggedBody(body, line)


class _Line:
    """What is known of one request so far; logged once, when its body is closed."""

    def __init__(self, logger, environ, started):
        self.logger = logger
        self.environ = environ
        self.started = started
        self.status = None
        self.sent = 0
        self.done = False

    def emit(self):
        if self.done or not self.logger.isEnabledFor(logging.INFO):
            self.done = True
            return
        self.done = True
        environ = self.environ
        path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        fields = {
            "client_addr": environ.get("REMOTE_ADDR") or "-",
            "method": _printable(environ.get("REQUEST_METHOD", "-"), safe=""),
            "path": _printable(path or "/", safe=_PATH_SAFE),
            "status": self.status or "-",
            "bytes": self.sent,
            "duration_ms": (time.perf_counter() - self.started) * 1000,
        }
        self.logger.info('%s "%s %s" %s %d %.1fms', fields["client_addr"], fields["method"],
                         fields["path"], fields["status"], fields["bytes"],
                         fields["duration_ms"], extra={"access": fields})


class _LoggedBody:
    """The application's body, counted as the server sends it; the line is logged at close()."""

    def __init__(self, body, line):
        self.body = body
        self.line = line

    def __iter__(self):
        for chunk in self.body:
            self.line.sent += len(chunk)
            yield chunk

    def close(self):
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            self.line.emit()


def filter_app_factory(app, global_conf, **local_conf):
    """`use = egg:virtdancer#accesslog`: the PasteDeploy filter; it takes no options."""
    if local_conf:
        raise ValueError(f"the accesslog filter takes no options (got {', '.join(local_conf)}); "
                         "its level and handlers are set in the logging configuration, on the "
                         "logger virtdancer.access")
    return AccessLog(app)
