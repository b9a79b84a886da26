"""Request bodies that are libvirt XML (a domain's, a network's), read here only for a name."""

import re
import xml.etree.ElementTree as ElementTree

from pyramid.httpexceptions import HTTPForbidden

from ..permissions import limited_by_filters

XML = "application/xml"


def read_xml(request, tag, name_rule, rule_words):
    """`(text, name)` of an `application/xml` body: a `<tag>` whose `<name>` matches
    `name_rule` (`rule_words` says it); None, with the error noted, for anything else.

    Read by a parser that never sees a DOCTYPE (refused first), so no entity is ever expanded;
    libvirt parses it for real. Its size is bounded by `virtdancer.max_body_bytes`.
    """
    if request.content_type != XML:
        request.errors.add("header", "Content-Type", f"the body is to be a {tag}'s XML, sent "
                           f"as {XML}")
        return None
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        request.errors.add("body", None, "the body is not UTF-8 text")
        return None
    if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
        request.errors.add("body", None, f"a {tag}'s XML may not hold a DOCTYPE or an entity")
        return None
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as error:
        request.errors.add("body", None, f"the body is not well-formed XML: {error}")
        return None
    name = root.findtext("name") or ""
    if root.tag != tag or not re.match(name_rule, name):
        request.errors.add("body", "name", f"the XML is to be a <{tag}> with a <name> of "
                           f"{rule_words}")
        return None
    return text, name


def refuse_domain_xml_to_limited_users(request):
    """A domain's XML can name any file or device of the host and pass QEMU any argument, so
    only an admin whom no users-file filter limits (every VM, every host) may write one; an
    admin limited to some VMs keeps to the form-made routes, whose every field is checked.
    A portal's own security (whose identities have no filters) decides for itself."""
    if not limited_by_filters(request.identity):
        return
    raise HTTPForbidden("a domain's XML can reach anything on the host, so only an admin of "
                        "every VM on every host may write it; use the form fields instead")
