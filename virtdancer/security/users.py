"""The users file: who may log in, with which role, and which VMs each user sees.

An INI file, one section per user, the section name being the login name:

    [tenant]
    password = $argon2id$v=19$m=65536,t=3,p=4$...
    role = operator
    prefix = web-
    exact = db-1, db-2
    suffix = -test

`role` is viewer, operator or admin. `hosts` names the hosts the user sees (`all`, the default,
for every host). On them, a user sees the VMs whose name equals one of `exact`,
starts with one of `prefix` or ends with one of `suffix` (values separated by commas or new
lines); `vms = all` shows every VM; a user with neither sees none. The file is read again when
it changes, so an operator can edit it without restarting VirtDancer.
"""

import configparser
import logging
import os
import tempfile
import threading
import time
from dataclasses import dataclass

from ..permissions import ROLES

log = logging.getLogger(__name__)

_KEYS = {"password", "role", "vms", "exact", "prefix", "suffix", "hosts"}
_NO_DEFAULTS = "virtdancer: no defaults"


class UsersFileError(Exception):
    """The users file is missing, unreadable or says something VirtDancer cannot use."""


@dataclass(frozen=True)
class User:
    name: str
    password_hash: str
    role: str
    all_vms: bool = False
    exact: frozenset = frozenset()
    prefixes: tuple = ()
    suffixes: tuple = ()
    hosts: frozenset = None     # the names of the hosts this user sees; None: every host
    token_id: str = None        # the API token the request came with (its scope in `role`)

    def sees_host(self, host_name):
        """Whether this user may know that the host named `host_name` exists."""
        return self.hosts is None or host_name in self.hosts

    def sees(self, vm_name):
        """Whether this user may know that the VM named `vm_name` exists."""
        return (self.all_vms or vm_name in self.exact
                or vm_name.startswith(self.prefixes) or vm_name.endswith(self.suffixes))


def _values(text):
    return [value.strip() for line in text.splitlines() for value in line.split(",")
            if value.strip()]


def parse_users(text, source="users file"):
    """`{name: User}` from the text of a users file; `UsersFileError` says what is wrong."""
    # No DEFAULT section: keys inherited by every user would be a quiet way to widen access.
    parser = configparser.ConfigParser(interpolation=None, default_section=_NO_DEFAULTS)
    parser.optionxform = str
    try:
        parser.read_string(text, source=source)
    except configparser.Error as error:
        raise UsersFileError(f"{source}: {error}") from None
    if parser.defaults():
        raise UsersFileError(f"{source}: [{_NO_DEFAULTS}] is not a user name VirtDancer allows")
    users = {}
    for name in parser.sections():
        section = parser[name]
        where = f"{source}, user [{name}]"
        unknown = set(section) - _KEYS
        if unknown:
            raise UsersFileError(f"{where}: unknown keys {', '.join(sorted(unknown))}; "
                                 f"known keys are {', '.join(sorted(_KEYS))}")
        password = section.get("password", "").strip()
        if not password:
            raise UsersFileError(f"{where}: no password hash (make one with "
                                 "`virtdancer hash-password`)")
        role = section.get("role", "").strip()
        if role not in ROLES:
            raise UsersFileError(f"{where}: role must be one of {', '.join(ROLES)}, "
                                 f"not {role!r}")
        vms = section.get("vms", "").strip()
        if vms not in ("", "all"):
            raise UsersFileError(f"{where}: vms can only be 'all'; use exact, prefix and "
                                 "suffix to choose VMs")
        hosts = _values(section.get("hosts", "all"))
        if "all" in hosts and len(hosts) > 1:
            raise UsersFileError(f"{where}: hosts is 'all' or a list of host names, not both")
        users[name] = User(
            name=name, password_hash=password, role=role, all_vms=vms == "all",
            hosts=None if hosts == ["all"] else frozenset(hosts),
            exact=frozenset(_values(section.get("exact", ""))),
            prefixes=tuple(_values(section.get("prefix", ""))),
            suffixes=tuple(_values(section.get("suffix", ""))),
        )
    return users


# How often (seconds) a busy VirtDancer looks whether the users file changed: each look is a
# `stat`, which lets go of the interpreter lock (a thread switch under load).
CHECK_INTERVAL = 0.1


class UsersFile:
    """The users file on disk, read again whenever it changes: looked at (`stat`) at most every
    `check_interval` seconds, so that a change counts from the next request after that.

    A file that becomes missing, unreadable, empty or wrong while VirtDancer runs is most
    likely being edited: the last good users stay in force until it is good again, and for the
    first `grace` seconds of that, `settled` is False (failed logins are not held against
    anyone then). A file that stays broken longer is not an edit: failures count again.
    """

    def __init__(self, path, grace=60.0, clock=time.monotonic, check_interval=CHECK_INTERVAL):
        self.path = path
        self.grace = grace
        self.clock = clock
        self.check_interval = check_interval
        self._checked = None      # when the file was last looked at
        self._lock = threading.Lock()
        self._stamp = None        # of the file the users were read from
        self._bad_stamp = None    # of a file found wrong, so that it is not read again
        self._bad_since = None    # when the file was first found broken, if it is
        self._users = {}
        # Told of each change after the first reading: `on_change(error)`, error None for a
        # file read again, or why the file cannot be used now (the audit trail records both).
        self.on_change = None
        self.reload_if_changed()

    @property
    def settled(self):
        """False while the file has been broken for less than `grace` seconds."""
        bad_since = self._bad_since
        return bad_since is None or self.clock() - bad_since > self.grace

    def get(self, name):
        self.reload_if_changed()
        return self._users.get(name)

    def reload_if_changed(self, at_once=False):
        now = self.clock()
        checked = self._checked
        if not at_once and checked is not None and 0 <= now - checked < self.check_interval:
            return
        self._checked = now
        try:
            stat = os.stat(self.path)
            stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
            if stamp in (self._stamp, self._bad_stamp):
                return
            with self._lock:
                with open(self.path, encoding="utf-8") as users_file:
                    text = users_file.read()
                users = parse_users(text, self.path)
                if not users:
                    raise UsersFileError(f"{self.path}: no users (add one section per user)")
                reloaded = self._stamp is not None
                self._users, self._stamp, self._bad_stamp = users, stamp, None
                self._bad_since = None
            if reloaded:
                self._tell(None)
        except (OSError, UnicodeDecodeError, UsersFileError) as error:
            if self._stamp is None:
                if isinstance(error, UsersFileError):
                    raise
                reason = getattr(error, "strerror", None) or str(error)
                raise UsersFileError(f"{self.path}: {reason}") from None
            if self._bad_since is None:
                log.warning("users file %s cannot be used now (%s); keeping the %d users read "
                            "before until it is fixed", self.path, error, len(self._users))
                self._bad_since = self.clock()
                # Not the error's text: a parser's quotes a line of the file, a hash maybe.
                self._tell("the users file cannot be used; the users read before stay")
            self._bad_stamp = None if isinstance(error, OSError) else stamp

    def _tell(self, error):
        if self.on_change is not None:
            self.on_change(error)

    def replace_hash(self, name, old_hash, new_hash):
        """Swap one user's password hash in the file, leaving the rest of it as written."""
        with self._lock:
            with open(self.path, encoding="utf-8") as users_file:
                text = users_file.read()
            if text.count(old_hash) != 1 or parse_users(text, self.path)[name].password_hash \
                    != old_hash:
                return False
            directory = os.path.dirname(os.path.abspath(self.path))
            mode = os.stat(self.path).st_mode & 0o7777
            with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=directory,
                                             delete=False) as new_file:
                new_file.write(text.replace(old_hash, new_hash))
            os.chmod(new_file.name, mode)
            os.replace(new_file.name, self.path)
        self.reload_if_changed(at_once=True)
        return True
