"""Moving the first VirtDancer's users (its config.yml) into a VirtDancer users file.

The first VirtDancer, a Dancer2 application, kept its users in config.yml:

    users:
      tenant:
        password: "$6$..."
        filters:
          prefix: ["web-"]
          exact: ["db-1"]

It had no roles (every user could start and stop the VMs they saw), and a `""` prefix or
suffix matched every VM. `users_file_from_config` turns the parsed YAML into the text of a
users file (see `users.py`); the `$6$` hashes are kept, and VirtDancer replaces each one with
an argon2id hash at that user's next successful login.
"""

import re

import yaml

from ..permissions import ROLES
from .sha512_crypt import is_sha512_crypt
from .users import User, UsersFileError, parse_users

FILTER_KINDS = ("exact", "prefix", "suffix")

_ARGON2_RE = re.compile(r"\$argon2(?:id|i|d)\$(?:v=[0-9]+\$)?m=[0-9]+,t=[0-9]+,p=[0-9]+"
                        r"\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+")


class UsersImportError(Exception):
    """config.yml says something that cannot be carried into a users file; the message says
    what and, where it can, for which user."""


def read_config(path):
    """The parsed YAML of the config.yml at `path`; `UsersImportError` if it cannot be read."""
    try:
        with open(path, encoding="utf-8") as config_file:
            return yaml.safe_load(config_file)
    except OSError as error:
        raise UsersImportError(f"{path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise UsersImportError(f"{path}: not UTF-8 text") from None
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or str(error)
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise UsersImportError(f"{path}: not valid YAML: {' '.join(problem.split())}{where}") \
            from None


def users_file_from_config(config, source="config.yml", role="operator"):
    """The text of a users file holding the users of a parsed config.yml, each with `role`."""
    if role not in ROLES:
        raise UsersImportError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    users = config.get("users") if isinstance(config, dict) else None
    if not isinstance(users, dict) or not users:
        raise UsersImportError(f"{source}: no `users:` mapping with at least one user in it")
    source_line = " ".join(str(source).splitlines())
    lines = [
        f"# VirtDancer users file, imported from {source_line} by `virtdancer import-users`.",
        "# The $6$ password hashes are kept as they were: VirtDancer replaces each one with an",
        "# argon2id hash at that user's next successful login.",
    ]
    expected = {}
    for name, entry in users.items():
        try:
            user, user_lines = _convert_user(name, entry, role)
        except UsersImportError as error:
            raise UsersImportError(f"{source}: {error}") from None
        expected[user.name] = user
        lines += ["", *user_lines]
    text = "\n".join(lines) + "\n"
    # What the users file will say must be what config.yml said: check by reading it back.
    try:
        written = parse_users(text)
    except UsersFileError as error:
        raise UsersImportError(f"{source}: cannot be written as a users file: {error}") from None
    for name in expected.keys() | written.keys():
        if written.get(name) != expected.get(name):
            raise UsersImportError(f"{source}: user {name!r} cannot be written to a users file "
                                   "as is")
    return text


def _convert_user(name, entry, role):
    """`(User, lines of its section)` for one config.yml user."""
    if not isinstance(name, str):
        raise UsersImportError(f"user name {name!r} is not text; quote it in config.yml")
    if not name or "[" in name or "]" in name or name.splitlines() != [name]:
        raise UsersImportError(f"user name {name!r} cannot be a users file section name "
                               "(it is empty or has '[', ']' or a line break in it)")
    where = f"user {name!r}"
    if not isinstance(entry, dict):
        raise UsersImportError(f"{where}: expected `password` and `filters` under it")
    password = entry.get("password")
    if not isinstance(password, str) or not password:
        raise UsersImportError(f"{where}: no password (make a hash with "
                               "`virtdancer hash-password` and add it to config.yml)")
    if not (is_sha512_crypt(password) or _ARGON2_RE.fullmatch(password)):
        # Not echoed: it may well be a password in plain text.
        raise UsersImportError(f"{where}: the password is not a $6$ or argon2 hash (plain-text "
                               "passwords are not imported; make a hash with "
                               "`virtdancer hash-password`)")
    filters = _filters(where, entry.get("filters"))
    all_vms = "" in filters["prefix"] or "" in filters["suffix"]
    lines = [f"[{name}]", f"password = {password}", f"role = {role}"]
    if all_vms:
        lines.append("vms = all")
        filters = dict.fromkeys(FILTER_KINDS, [])
    elif not any(filters.values()):
        lines.append("# no filters in config.yml: this user sees no VMs")
    for kind in FILTER_KINDS:
        if filters[kind]:
            lines.append(f"{kind} = {', '.join(filters[kind])}")
    user = User(name=name, password_hash=password, role=role, all_vms=all_vms,
                exact=frozenset(filters["exact"]), prefixes=tuple(filters["prefix"]),
                suffixes=tuple(filters["suffix"]))
    return user, lines


def _filters(where, filters):
    """`{kind: [values]}`, without duplicates; `""` kept for prefix and suffix (every VM)."""
    if filters is None:
        filters = {}
    if not isinstance(filters, dict):
        raise UsersImportError(f"{where}: filters should be a mapping of exact, prefix, suffix")
    unknown = set(filters) - set(FILTER_KINDS)
    if unknown:
        raise UsersImportError(f"{where}: unknown filters {', '.join(sorted(map(str, unknown)))}; "
                               f"known filters are {', '.join(FILTER_KINDS)}")
    result = {}
    for kind in FILTER_KINDS:
        values = filters.get(kind) or []
        if not isinstance(values, list):
            raise UsersImportError(f"{where}: {kind} should be a list of VM names")
        for value in values:
            if not isinstance(value, str):
                raise UsersImportError(f"{where}: {kind} value {value!r} is not text; "
                                       "quote it in config.yml")
            if value != value.strip() or "," in value or value.splitlines() not in ([], [value]):
                raise UsersImportError(f"{where}: {kind} value {value!r} cannot be written to a "
                                       "users file (no commas, line breaks or spaces at either "
                                       "end)")
        if kind == "exact":
            values = [value for value in values if value]  # "" never named a VM
        result[kind] = list(dict.fromkeys(values))
    return result
