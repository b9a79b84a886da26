"""waitress, as the INI files' `[server:main]` runs it, saying in one line why it cannot listen.

`use = egg:virtdancer#waitress` takes waitress's own settings (`listen`, `url_prefix`,
`trusted_proxy`, ...). A second VirtDancer on a port that is taken, or a `listen` address that
is not this machine's, ends with one line naming the setting, not a traceback.
"""

import errno
import os
import sys

import waitress


def why_not(error):
    """Why an address cannot be listened on, in words that follow "the address ... "."""
    if error.errno == errno.EADDRINUSE:
        return "is in use (is another VirtDancer running?)"
    return f"cannot be listened on ({error.strerror or error})"


def serve(app, global_conf, **settings):
    """A PasteDeploy server runner: waitress, unless it cannot listen."""
    try:
        waitress.serve(app, **settings)
    except OSError as error:
        listen = settings.get("listen") or f"{settings.get('host', '0.0.0.0')}:" \
                                           f"{settings.get('port', 8080)}"
        print(f"VirtDancer cannot start: the address {listen} {why_not(error)}: set listen in "
              "[server:main] to another host:port", file=sys.stderr, flush=True)
        # pserve turns a SystemExit of its server into exit status 0, which a supervisor
        # (systemd's Restart=on-failure) would take for a clean stop; nothing has been served.
        os._exit(2)
    return 0
