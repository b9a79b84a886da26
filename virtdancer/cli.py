"""The `virtdancer` command: operator tasks beside the web application.

Each task is a subcommand; `virtdancer --help` lists them.
"""

import argparse
import sys

from pyramid.paster import get_appsettings, setup_logging

from .hypervisor import hypervisor_from_settings
from .hypervisor.errors import HypervisorError


def check(args):
    """Connect to the libvirt host an INI file names and report what VirtDancer sees."""
    setup_logging(args.config_uri)
    settings = get_appsettings(args.config_uri)
    hypervisor = hypervisor_from_settings(settings).start()
    try:
        summaries = hypervisor.fleet.summaries()
    except HypervisorError as error:
        print(f"{hypervisor.uri}: {error.message}", file=sys.stderr)
        return 1
    finally:
        hypervisor.close()
    running = sum(1 for vm in summaries if vm["active"])
    print(f"{hypervisor.uri}: {len(summaries)} VMs, {running} running")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="virtdancer", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    check_parser = commands.add_parser("check", help=check.__doc__)
    check_parser.add_argument("config_uri", help="an INI file such as production.ini")
    check_parser.set_defaults(run=check)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
