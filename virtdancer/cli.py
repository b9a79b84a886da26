"""The `virtdancer` command: operator tasks beside the web application.

Each task is a subcommand; `virtdancer --help` lists them.
"""

import argparse
import getpass
import os
import sys
import tempfile

from paste.deploy.loadwsgi import APP, FILTER_APP, FILTER_WITH, PIPELINE, loadcontext
from pyramid.paster import setup_logging

from .hypervisor import HostsSettingsError, registry_from_settings
from .hypervisor.errors import HypervisorError
from .permissions import ROLES
from .security.import_users import UsersImportError, read_config, users_file_from_config
from .security.passwords import hash_password
from .security.tokens import SCOPES
from .settings import value


class ConfigUriError(Exception):
    """An INI file (or section) that does not say which application is VirtDancer."""


def app_settings(config_uri):
    """VirtDancer's settings in an INI file: its app section's, through pipelines and filters.

    production.ini serves `[pipeline:main]` (the access log, then VirtDancer): the settings are
    those of the application at the end of the pipeline. A composite maps several applications;
    the URI then names VirtDancer's section: `examples/portal.ini#virtdancer`.
    """
    path, _, name = config_uri.partition("#")
    context = loadcontext(APP, "config:" + os.path.abspath(path), name=name or None)
    while context.object_type in (PIPELINE, FILTER_APP, FILTER_WITH):
        context = context.app_context if context.object_type is PIPELINE else \
            context.next_context
    if context.protocol != "paste.app_factory":   # a composite (a URL map...)
        raise ConfigUriError(
            f"{config_uri} serves several applications: name VirtDancer's section, as in "
            f"{path}#virtdancer")
    return context.config()


def check(args):
    """Connect to every libvirt host an INI file names and report what VirtDancer sees."""
    setup_logging(args.config_uri)
    settings = app_settings(args.config_uri)
    try:
        hosts = registry_from_settings(settings).start(statistics=False)
    except HostsSettingsError as error:
        print(f"virtdancer check: {error}", file=sys.stderr)
        return 2
    unreachable = 0
    try:
        for name, hypervisor in hosts.items():
            try:
                summaries = hypervisor.fleet.summaries()
            except HypervisorError as error:
                print(f"{name}: {hypervisor.uri}: {error.message}", file=sys.stderr)
                unreachable += 1
                continue
            running = sum(1 for vm in summaries if vm.active)
            print(f"{name}: {hypervisor.uri}: {len(summaries)} VMs, {running} running")
    finally:
        hosts.close()
    return 1 if unreachable else 0


def hash_password_command(args):
    """Print an argon2id hash of a password typed twice (or given on two lines of stdin)."""
    typed = sys.stdin.isatty()
    try:
        if typed:
            first = getpass.getpass("Password: ", stream=sys.stderr)
            second = getpass.getpass("Password again: ", stream=sys.stderr)
        else:
            first, second = _line(sys.stdin), _line(sys.stdin)
    except (EOFError, KeyboardInterrupt, UnicodeDecodeError) as error:
        problem = ("the password is not valid text" if isinstance(error, UnicodeDecodeError)
                   else "cancelled")
        print(f"\nvirtdancer hash-password: {problem}; no hash made", file=sys.stderr)
        return 1
    if not first:
        problem = "the password is empty"
    elif first != second:
        problem = ("the two passwords differ" if typed
                   else "the first two lines differ (give the password twice, one per line)")
    else:
        try:
            print(hash_password(first))
            return 0
        except UnicodeEncodeError:  # bytes that are not UTF-8, read as lone surrogates
            problem = "the password is not valid UTF-8 text"
    print(f"virtdancer hash-password: {problem}; no hash made", file=sys.stderr)
    return 1


def _line(stream):
    """The next line of `stream` without its line ending (and nothing else stripped)."""
    line = stream.readline()
    return line[:-2] if line.endswith("\r\n") else line.removesuffix("\n")


def import_users_command(args):
    """Convert the first VirtDancer's config.yml users into a VirtDancer users file."""
    try:
        text = users_file_from_config(read_config(args.config), args.config, args.role)
    except UsersImportError as error:
        print(f"virtdancer import-users: {error}", file=sys.stderr)
        return 1
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        _write_private(args.output, text, replace=args.force)
    except FileExistsError:
        print(f"virtdancer import-users: {args.output} exists; use --force to replace it",
              file=sys.stderr)
        return 1
    except OSError as error:
        print(f"virtdancer import-users: {args.output}: {error.strerror}", file=sys.stderr)
        return 1
    print(f"{args.output}: users imported from {args.config}", file=sys.stderr)
    return 0


def _write_private(path, text, replace):
    """Write `text` to a new file at `path` that only its owner can read (it holds hashes)."""
    if not replace:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    else:  # a new file moved over the old one, so the old one's mode and links do not carry over
        fd, temp_path = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)))
    try:
        with open(fd, "w", encoding="utf-8") as output:
            os.fchmod(output.fileno(), 0o600)
            output.write(text)
        if replace:
            os.replace(temp_path, path)
    except BaseException:
        os.unlink(temp_path if replace else path)
        raise


def console_proxy_command(args):
    """Run the console proxy (and the event channel) on its own, on virtdancer.console.listen
    of an INI file."""
    import asyncio

    from .console import console_from_settings
    from .console.access import ConsoleAccess
    from .console.proxy import ConsoleProxy, cannot_listen, parse_listen
    from .live import hub_and_feed
    from .published_secrets import PublishedSecret
    from .security.users import UsersFile, UsersFileError

    setup_logging(args.config_uri)
    settings = app_settings(args.config_uri)
    try:
        console = console_from_settings(settings)
        users_path = value(settings, "virtdancer.users_file")
        # The users file VirtDancer's security reads: the proxy asks it again at each
        # connection. Without one (a host portal's own security), the token is all there is.
        access = ConsoleAccess(UsersFile(users_path) if users_path else None)
        hosts = registry_from_settings(settings)
    except (PublishedSecret, UsersFileError, HostsSettingsError) as error:
        print(f"virtdancer console-proxy: {error}", file=sys.stderr)
        return 2
    if console is None or not console.listen:
        print("virtdancer console-proxy: set virtdancer.secret and virtdancer.console.listen in "
              f"{args.config_uri}", file=sys.stderr)
        return 2
    # The event channel's events come from this process's own connections to the hosts
    # (libvirt tells every connection); its `seq` numbers are its own.
    hub, feed = hub_and_feed(settings, hosts)
    feed.start()
    hosts.start(statistics=False)
    allowed_origins = value(settings, "virtdancer.console.allowed_origins")
    proxy = ConsoleProxy(hosts, console.tokens, allowed_origins, access,
                         events=console.event_channel(hub, allowed_origins, access.users))
    host, port = parse_listen(console.listen)

    def listening(server):
        # Said once it listens, with the port it has (the one asked for, or the system's
        # choice for port 0).
        bound = next(iter(server.sockets)).getsockname()[1]
        print(f"console proxy listening on {host}:{bound}", file=sys.stderr, flush=True)

    try:
        asyncio.run(proxy.serve_forever(host, port, started=listening))
    except KeyboardInterrupt:
        pass
    except OSError as error:
        print(f"virtdancer console-proxy: {cannot_listen(host, port, error)}", file=sys.stderr)
        return 2
    finally:
        feed.close()
        hosts.close()
    return 0


def events_command(args):
    """Print the live events of the libvirt hosts of an INI file (every host, or --host)."""
    from .live import hub_and_feed
    from .live.terminal import watch

    setup_logging(args.config_uri)
    settings = app_settings(args.config_uri)
    try:
        hosts = registry_from_settings(settings)
    except HostsSettingsError as error:
        print(f"virtdancer events: {error}", file=sys.stderr)
        return 2
    if args.host is not None and hosts.get(args.host) is None:
        print(f"virtdancer events: no host {args.host!r} in {args.config_uri} (hosts: "
              f"{', '.join(hosts.names())})", file=sys.stderr)
        return 2
    # Its own connections, as the separate console proxy has: what this command prints is
    # what libvirt tells it, not what a running VirtDancer's hub holds.
    hub, feed = hub_and_feed(settings, hosts)
    feed.start()
    try:
        watch(hub, sys.stdout, host=args.host, as_json=args.json, count=args.count,
              then=lambda: hosts.start(statistics=False))
    except KeyboardInterrupt:
        pass
    finally:
        feed.close()
        hosts.close()
    return 0


def token_command(args):
    """Make, list or revoke API tokens in the state file of an INI file."""
    import colander

    from .schemas import NewTokenBody
    from .security.tokens import ApiTokens, TokenNotMade, scope_within, scopes_within
    from .security.users import UsersFile, UsersFileError
    from .state import StateFileError, StateStore

    def fail(problem):
        print(f"virtdancer token {args.action}: {problem}", file=sys.stderr)
        return 2

    settings = app_settings(args.config_uri)
    state_file = value(settings, "virtdancer.state_file")
    if not state_file:
        return fail(f"virtdancer.state_file is not set in {args.config_uri}: VirtDancer keeps "
                    "its tokens in memory then, where this command cannot reach them")
    try:
        users = UsersFile(value(settings, "virtdancer.users_file"))
        store = StateStore(state_file)
    except (UsersFileError, StateFileError) as error:
        return fail(error)
    tokens = ApiTokens(store, users)
    try:
        if args.action == "list":
            for record in tokens.records():
                print(f"{record.id}  {record.owner}  {record.scope:7}  {record.name}  "
                      f"expires {_when(record.expires)}, last used {_when(record.last_used)}")
            return 0
        if args.action == "revoke":
            if not tokens.revoke(args.id):
                return fail(f"no API token with id {args.id}")
            print(f"API token {args.id} revoked", file=sys.stderr)
            return 0
        user = users.get(args.user)
        if user is None:
            return fail(f"{args.user} is not in the users file")
        if not scope_within(args.scope, user.role):
            return fail(f"{args.user} ({user.role}) may have tokens of scope "
                        f"{' or '.join(scopes_within(user.role))}, not {args.scope}")
        try:
            body = NewTokenBody().deserialize({"name": args.name, "scope": args.scope,
                                               "expires": _expiry(args.expires)})
        except colander.Invalid as invalid:
            return fail("; ".join(f"{'--' if field != 'name' else ''}{field} {problem}"
                                  for field, problem in invalid.asdict().items()))
        try:
            record, text = tokens.create(args.user, body["name"], body["scope"],
                                         body["expires"])
        except TokenNotMade as error:
            # The refusal names the body's field; here it is the option of that name.
            return fail(("--" if error.name == "expires" else "") + error.message)
    finally:
        store.close()
    print(f"API token {record.id} for {record.owner}, scope {record.scope}, expires "
          f"{_when(record.expires)}; it is shown this once:", file=sys.stderr)
    print(text)
    return 0


_DURATION = {"m": 60, "h": 3600, "d": 86400}


def _expiry(text):
    """`30d`, `12h`, `90m` as a Unix time; a Unix time as a number; else as it is, for
    NewTokenBody to read (an ISO 8601 time) or refuse."""
    import time

    if text is None:
        return None
    text = text.strip()
    if text[:-1].isdigit() and text[-1:] in _DURATION:
        return time.time() + int(text[:-1]) * _DURATION[text[-1]]
    try:
        return float(text)
    except ValueError:
        return text


def _when(moment):
    import datetime

    if moment is None:
        return "never"
    return datetime.datetime.fromtimestamp(moment, datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M UTC")


def build_parser():
    parser = argparse.ArgumentParser(prog="virtdancer", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    check_parser = commands.add_parser("check", help=check.__doc__)
    check_parser.add_argument("config_uri", help="an INI file such as production.ini (with "
                              "#section for a composite: examples/portal.ini#virtdancer)")
    check_parser.set_defaults(run=check)
    hash_parser = commands.add_parser("hash-password", help=hash_password_command.__doc__)
    hash_parser.set_defaults(run=hash_password_command)
    import_parser = commands.add_parser("import-users", help=import_users_command.__doc__)
    import_parser.add_argument("config", help="the first VirtDancer's config.yml")
    import_parser.add_argument("-o", "--output", help="the users file to write (default: stdout)")
    import_parser.add_argument("--force", action="store_true",
                               help="replace the output file if it exists")
    import_parser.add_argument("--role", choices=ROLES, default="operator",
                               help="the role every imported user gets (default: operator)")
    import_parser.set_defaults(run=import_users_command)
    proxy_parser = commands.add_parser("console-proxy", help=console_proxy_command.__doc__)
    proxy_parser.add_argument("config_uri", help="an INI file such as production.ini (with "
                              "#section for a composite: examples/portal.ini#virtdancer)")
    proxy_parser.set_defaults(run=console_proxy_command)
    events_parser = commands.add_parser("events", help=events_command.__doc__)
    events_parser.add_argument("config_uri", help="an INI file such as production.ini (with "
                               "#section for a composite: examples/portal.ini#virtdancer)")
    events_parser.add_argument("--host", help="only this host's events (a name of "
                                              "virtdancer.hosts)")
    events_parser.add_argument("--json", action="store_true",
                               help="one JSON object per line, as the event channel sends them")
    events_parser.add_argument("--count", type=int, help="stop after this many events")
    events_parser.set_defaults(run=events_command)
    token_parser = commands.add_parser("token", help=token_command.__doc__)
    token_actions = token_parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    create_parser = token_actions.add_parser(
        "create", help="make an API token for a user (for Prometheus, say) and print it once")
    create_parser.add_argument("config_uri", help="an INI file such as production.ini")
    create_parser.add_argument("user", help="the user the token authenticates as")
    create_parser.add_argument("name", help="what the token is for, such as prometheus")
    create_parser.add_argument("--scope", choices=list(SCOPES), default="read",
                               help="read, operate or admin, at most the user's role "
                                    "(default: read)")
    create_parser.add_argument("--expires", help="30d, 12h, 90m, an ISO 8601 time or a Unix "
                                                 "time (default: never)")
    list_parser = token_actions.add_parser("list", help="list every user's API tokens")
    list_parser.add_argument("config_uri", help="an INI file such as production.ini")
    revoke_parser = token_actions.add_parser("revoke", help="revoke an API token by its id")
    revoke_parser.add_argument("config_uri", help="an INI file such as production.ini")
    revoke_parser.add_argument("id", help="the token's id (12 hex digits)")
    token_parser.set_defaults(run=token_command)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except ConfigUriError as error:
        print(f"virtdancer {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
