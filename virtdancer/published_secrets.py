"""The secrets that VirtDancer's own files publish, which nothing real may be signed with.

development.ini and the examples need a `virtdancer.secret` to run at all, so they carry one;
anyone who read them could forge session cookies and console tokens signed with it. VirtDancer
takes them only in front of libvirt's test driver (the demo fleet), never for a real host.
"""

from pyramid.exceptions import ConfigurationError

from .hypervisor import hosts_from_settings
from .settings import value

PUBLISHED_SECRETS = {
    "development-only-secret-not-for-production-use-0123456789": "development.ini",
    "example-only-secret-never-use-it-in-production-0123456789": "the examples",
}


class PublishedSecret(ConfigurationError):
    """`virtdancer.secret` is one of VirtDancer's published example secrets."""


def refuse_published_secret(settings):
    """Raise `PublishedSecret` when a published secret would guard a real host."""
    secret = value(settings, "virtdancer.secret")
    published_in = PUBLISHED_SECRETS.get(secret)
    if published_in is None:
        return
    if all(uri.startswith("test:") for _, uri in hosts_from_settings(settings)):
        return
    raise PublishedSecret(
        f"virtdancer.secret is the example secret published in {published_in}, which anyone "
        f"can sign sessions and console tokens with: set a secret of your own, such as the "
        f"output of `python3 -c 'import secrets; print(secrets.token_hex(32))'`")

