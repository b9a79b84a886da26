"""Colander schemas of requests: path parameters, bodies and query parameters."""

import math
import re
from datetime import datetime, timezone

import colander

from .hypervisor import ACTIONS, POOL_ACTIONS, VOLUME_FORMATS
from .hypervisor.registry import HOST_NAME
from .security.tokens import MAX_NAME as MAX_TOKEN_NAME
from .security.tokens import SCOPES
from .settings import NO, YES
from .tasks.records import STATES as TASK_STATES
from .views.errors import quoted

# The name of anything VirtDancer makes on a host (a VM, a pool, a volume, a network): checked
# before libvirt sees it (no path, no hidden file, nothing a file system refuses).
LIBVIRT_NAME = r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$"
LIBVIRT_NAME_WORDS = "at most 64 of A-Z a-z 0-9 . _ -, not starting with . or -"
STORAGE_NAME, STORAGE_NAME_WORDS = LIBVIRT_NAME, LIBVIRT_NAME_WORDS
# A drive's name in a VM (`<target dev=>`), and a unicast MAC address (libvirt refuses others).
DRIVE_TARGET = r"^(vd|sd|hd|xvd)[a-z]{1,3}$"
UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
# A snapshot's name: libvirt takes almost anything; VirtDancer, what a URL keeps readable.
SNAPSHOT_NAME = r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$"
TASK_ID = r"^[0-9a-f]{16}$"
MAC_ADDRESS = r"^[0-9a-fA-F][02468aceACE](:[0-9a-fA-F]{2}){5}$"

# -- path parameters ----------------------------------------------------------------------------

class PathParameters(colander.MappingSchema):
    """What each part of a URL may be. The resources find hosts, VMs and tokens only by names
    of these shapes (anything else is a 404), and the OpenAPI document says them."""

    uuid = colander.SchemaNode(
        colander.String(), validator=colander.Regex(UUID),
        description="the VM's libvirt UUID, in its hyphenated form (either case)")
    host = colander.SchemaNode(colander.String(),
                               validator=colander.Regex(f"^{HOST_NAME.pattern}$"),
                               description="a host's name, as `virtdancer.hosts` lists it")
    name = colander.SchemaNode(colander.String(),
                               description="a network interface of the host")
    id = colander.SchemaNode(colander.String(), validator=colander.Regex(r"^[0-9a-f]{12}$"),
                             description="an API token's id")
    pool = colander.SchemaNode(colander.String(), validator=colander.Regex(STORAGE_NAME),
                               description="a storage pool's name")
    volume = colander.SchemaNode(colander.String(), validator=colander.Regex(STORAGE_NAME),
                                 description="a volume's name in its pool")

    network = colander.SchemaNode(
        colander.String(), validator=colander.Regex(LIBVIRT_NAME),
        description="a virtual network's name: at most 64 of A-Z a-z 0-9 . _ -, not starting "
                    "with . or -")
    target = colander.SchemaNode(colander.String(), validator=colander.Regex(DRIVE_TARGET),
                                 description="a drive's name in the VM: vda, sdb, hdc, ...")
    mac = colander.SchemaNode(colander.String(), validator=colander.Regex(MAC_ADDRESS),
                              description="a NIC's MAC address, as 52:54:00:12:34:56")
    snapshot = colander.SchemaNode(colander.String(), validator=colander.Regex(SNAPSHOT_NAME),
                                   description="a snapshot's name in its VM")
    task = colander.SchemaNode(colander.String(), validator=colander.Regex(TASK_ID),
                               description="a task's id: 16 hex digits")


PATH_PARAMETERS = PathParameters()


def well_formed(parameter, value):
    """Whether `value` may be the path parameter `parameter` (`uuid`, `host`, `name`, `id`)."""
    try:
        PATH_PARAMETERS[parameter].deserialize(value)
    except colander.Invalid:
        return False
    return True


class ActionBody(colander.MappingSchema):
    """`POST /vm/<uuid>/action`: `{"action": "start"}`, as JSON or as a form field."""

    action = colander.SchemaNode(
        colander.String(),
        validator=colander.OneOf(ACTIONS),
        description="one of " + ", ".join(ACTIONS),
    )


# -- query parameters ---------------------------------------------------------------------------

def _in_every_case(word):
    """Every spelling of `word` in upper and lower case letters: "on", "oN", "On", "ON"."""
    spellings = [""]
    for letter in word:
        spellings = [start + variant for start in spellings
                     for variant in dict.fromkeys((letter.lower(), letter.upper()))]
    return spellings


class Flag(colander.SchemaType):
    """A yes/no query parameter (`?detail=1`): 1, t, true, y, yes, on, or 0, f, false, n, no,
    off, in any case; an empty value is no. Nothing else, not even with spaces around it: the
    document lists exactly these (every case of each)."""

    SPELLINGS = [spelling for word in sorted(YES | NO) + [""]
                 for spelling in _in_every_case(word)]

    def json_schema(self):
        return {"type": "string", "enum": self.SPELLINGS}

    def serialize(self, node, appstruct):
        return "1" if appstruct else "0"

    def deserialize(self, node, cstruct):
        # ASCII only: Unicode's lower() and strip() would read other characters as these.
        spelt = cstruct.lower() if isinstance(cstruct, str) and cstruct.isascii() else None
        if spelt in YES:
            return True
        if spelt in NO or spelt == "":
            return False
        raise colander.Invalid(node, f"?{node.name}= is 1 or 0 (true or false), not "
                                     f"{quoted(str(cstruct))!r}")


class Switch(colander.SchemaType):
    """A yes/no field of a body: JSON's true or false, or a form's "true" or "false". Anything
    else is refused, where colander's Boolean would read any text but "false" as yes."""

    def json_schema(self):
        return {"type": "boolean"}

    def serialize(self, node, appstruct):
        return bool(appstruct)

    def deserialize(self, node, cstruct):
        if cstruct is colander.null or isinstance(cstruct, bool):
            return cstruct      # null: left out, so the node's `missing` applies
        if cstruct in ("true", "false"):
            return cstruct == "true"
        raise colander.Invalid(node, f"{node.name} is true or false, not "
                                     f"{quoted(str(cstruct))!r}")


def _flag(description):
    return colander.SchemaNode(Flag(), missing=False,
                               description=description + " (yes/no: 1 or 0, true or false, ...)")


class DetailQuery(colander.MappingSchema):
    detail = _flag("every VM's full detail, not only its UUID, name and whether it is active")


MAX_TIME = 253402300800.0      # 10000-01-01T00:00:00Z


def _finite(node, value):
    # colander's Float takes "nan" and "inf" too: neither is a time (and NaN passes a Range).
    if not math.isfinite(value):
        raise colander.Invalid(node, f"{node.name} is to be a Unix time, not {value}")


# The document says the bounds (a Range); the function says what JSON Schema cannot.
_unix_time = colander.All(
    colander.Range(0, MAX_TIME, min_err="${val} is not a Unix time (negative)",
                   max_err="${val} is not a Unix time (after the year 10000)"),
    _finite)


class QueryNumber(colander.Float):
    """A number in a query string: colander's Float would take `?since=` (empty) as left out,
    where the client meant something and gets a 400 saying what."""

    def deserialize(self, node, cstruct):
        if cstruct == "":
            raise colander.Invalid(node, f"{node.name} is to be a number, not empty")
        return super().deserialize(node, cstruct)


class HistoryQuery(colander.MappingSchema):
    history = _flag("every sample kept, oldest first, rather than the newest one")
    since = colander.SchemaNode(
        QueryNumber(), missing=None, validator=_unix_time,
        description="with history: only the samples newer than this Unix time (the `time` of "
                    "the newest sample the client has)")


class NICQuery(HistoryQuery):
    filter = colander.SchemaNode(colander.String(), missing=None,
                                 validator=colander.OneOf(("physical",)),
                                 description="`physical`: only interfaces backed by a device")


# -- API tokens (POST /tokens, GET /tokens, GET and DELETE /tokens/<id>) ----------------------

class UnixTime(colander.SchemaType):
    """A time: Unix time (a number, as the API answers times) or ISO 8601 text, such as
    `2030-01-31T12:00:00Z` (UTC when it names no offset); a Unix time once deserialized."""

    def json_schema(self):
        return {"anyOf": [{"type": "number", "minimum": 0, "exclusiveMaximum": MAX_TIME},
                          {"type": "string", "format": "date-time",
                           "description": "ISO 8601 (RFC 3339)"},
                          {"type": "null"}]}

    def serialize(self, node, appstruct):
        return colander.null if appstruct in (None, colander.null) else float(appstruct)

    def deserialize(self, node, cstruct):
        if cstruct in (None, colander.null):
            return colander.null
        if isinstance(cstruct, (int, float)) and not isinstance(cstruct, bool):
            seconds = float(cstruct)
            if not math.isfinite(seconds) or not 0 <= seconds < MAX_TIME:
                raise colander.Invalid(node, f"is to be {TIME_WORDS}, before the year 10000")
            return seconds
        if isinstance(cstruct, str):
            try:
                # RFC 3339 allows a lower-case t and z, which Python's parser does not.
                moment = datetime.fromisoformat(cstruct.strip().upper())
            except ValueError:
                moment = None
            if moment is None:
                raise colander.Invalid(node, f"{quoted(cstruct)} is not {TIME_WORDS}")
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=timezone.utc)
            # Any time the text can say is well-formed (the year 690 too): one before now is
            # refused as such (a 409), not as malformed.
            return moment.timestamp()
        raise colander.Invalid(node, f"is to be {TIME_WORDS}")


class QueryTime(UnixTime):
    """A time in a query string: a Unix time (`?since=1767225600`) or ISO 8601 text."""

    def json_schema(self):
        return {"anyOf": [{"type": "number", "minimum": 0, "exclusiveMaximum": MAX_TIME},
                          {"type": "string", "format": "date-time",
                           "description": "ISO 8601 (RFC 3339)"}]}

    def deserialize(self, node, cstruct):
        if isinstance(cstruct, str):
            try:
                cstruct = float(cstruct)
            except ValueError:
                pass
        try:
            return super().deserialize(node, cstruct)
        except (OverflowError, ValueError):    # a date Python cannot count from 1970
            raise colander.Invalid(node, f"{quoted(cstruct)} is not {TIME_WORDS}") from None


TIME_WORDS = "a Unix time or an ISO 8601 date and time such as 2030-01-31T12:00:00Z"


def _stripped(text):
    return text.strip() if isinstance(text, str) else text


NAME_PATTERN = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"


class NewTokenBody(colander.MappingSchema):
    """`POST /tokens`: `{"name": "prometheus", "scope": "read", "expires": 1893456000}`."""

    name = colander.SchemaNode(
        colander.String(), preparer=_stripped,
        # One pattern, so that the document says both rules: no control characters, and
        # something besides spaces (the name is stripped first).
        validator=colander.All(colander.Length(1, MAX_TOKEN_NAME),
                               colander.Regex(NAME_PATTERN,
                                              msg="is blank or holds control characters")),
        description=f"what the token is for, unique among the user's tokens; at most "
                    f"{MAX_TOKEN_NAME} characters")
    scope = colander.SchemaNode(
        # allow_empty: a form's `scope=` is no scope, not a left-out one.
        colander.String(allow_empty=True), validator=colander.OneOf(list(SCOPES)),
        missing="read",
        description="read, operate or admin (at most the user's role); read if left out")
    expires = colander.SchemaNode(
        UnixTime(), missing=None,
        description="when the token stops working, later than now (else a 409); never if "
                    "left out or null")


# -- storage ------------------------------------------------------------------------------------

def _storage_name(description):
    return colander.SchemaNode(colander.String(), validator=colander.Regex(
        STORAGE_NAME, msg=f"a name is {STORAGE_NAME_WORDS}"), description=description)


class NewPoolBody(colander.MappingSchema):
    """`POST /pools`: a `dir` pool at an absolute path."""

    name = _storage_name("the pool's name, " + STORAGE_NAME_WORDS)
    path = colander.SchemaNode(colander.String(), validator=colander.All(
        colander.Length(max=4096), colander.Regex(r"^/[^\x00-\x1f\x7f]*$",
                                                  msg="an absolute path, without control "
                                                      "characters")),
        description="the pool's folder (made when missing)")
    autostart = colander.SchemaNode(Switch(), missing=False)
    start = colander.SchemaNode(Switch(), missing=True)


class PoolActionBody(colander.MappingSchema):
    action = colander.SchemaNode(colander.String(), validator=colander.OneOf(POOL_ACTIONS),
                                 description="one of " + ", ".join(POOL_ACTIONS))


class DeletePoolQuery(colander.MappingSchema):
    delete_files = colander.SchemaNode(Flag(), missing=False,
                                       description="also delete its volumes and its folder")


MAX_MIB = 1024 ** 3     # 1 PiB: libvirt's own limit is far above any pool


class NewVolumeBody(colander.MappingSchema):
    name = _storage_name("the volume's name, " + STORAGE_NAME_WORDS)
    format = colander.SchemaNode(colander.String(), validator=colander.OneOf(VOLUME_FORMATS),
                                 description="one of " + ", ".join(VOLUME_FORMATS))
    capacity_mib = colander.SchemaNode(colander.Integer(),
                                       validator=colander.Range(1, MAX_MIB))


class ResizeVolumeBody(colander.MappingSchema):
    capacity_mib = colander.SchemaNode(colander.Integer(),
                                       validator=colander.Range(1, MAX_MIB),
                                       description="the new size; only growing is allowed")


class CloneVolumeBody(colander.MappingSchema):
    """`POST .../volumes/<volume>/clone`: a copy named `name`, in `pool` (default: the same)."""

    name = _storage_name("the copy's name, " + STORAGE_NAME_WORDS)
    pool = colander.SchemaNode(colander.String(), missing=None,
                               validator=colander.Regex(STORAGE_NAME,
                                                        msg=f"a name is {STORAGE_NAME_WORDS}"),
                               description="a pool of the same host; default: the volume's own")
    format = colander.SchemaNode(colander.String(), missing=None,
                                 validator=colander.OneOf(VOLUME_FORMATS),
                                 description="one of " + ", ".join(VOLUME_FORMATS)
                                 + "; default: the volume's own")

# -- creating and deleting VMs (views/provisioning.py) -------------------------------------------

VM_NAME = LIBVIRT_NAME


class NewDisk(colander.MappingSchema):
    """A disk: a new volume (`size_gib`, `format`) or an existing one (`volume`) of `pool`."""

    pool = colander.SchemaNode(colander.String(), validator=colander.Length(1, 200))
    size_gib = colander.SchemaNode(colander.Float(), missing=None,
                                   validator=colander.Range(min=0.001, max=65536))
    format = colander.SchemaNode(colander.String(), missing="qcow2",
                                 validator=colander.OneOf(("qcow2", "raw")))
    volume = colander.SchemaNode(colander.String(), missing=None,
                                 validator=colander.Length(1, 200))
    bus = colander.SchemaNode(colander.String(), missing="virtio",
                              validator=colander.OneOf(("virtio", "sata", "scsi", "ide")))


def _disk_is_new_or_old(node, value):
    if (value["size_gib"] is None) == (value["volume"] is None):
        raise colander.Invalid(node, "a disk has either size_gib (a new volume) or volume")


class CDROM(colander.MappingSchema):
    pool = colander.SchemaNode(colander.String(), validator=colander.Length(1, 200))
    volume = colander.SchemaNode(colander.String(), validator=colander.Length(1, 200))


class NewNIC(colander.MappingSchema):
    network = colander.SchemaNode(colander.String(), missing=None,
                                  validator=colander.Length(1, 200))
    bridge = colander.SchemaNode(colander.String(), missing=None,
                                 validator=colander.Regex(r"^[A-Za-z0-9._-]{1,15}$"))
    model = colander.SchemaNode(colander.String(), missing="virtio",
                                validator=colander.OneOf(("virtio", "e1000", "rtl8139")))


def _nic_has_one_source(node, value):
    if (value["network"] is None) == (value["bridge"] is None):
        raise colander.Invalid(node, "a NIC has either network or bridge")


class NewVMBody(colander.MappingSchema):
    """`POST /vm`: the VM to make."""

    name = colander.SchemaNode(
        colander.String(), validator=colander.Regex(
            VM_NAME, "a name is 1 to 64 of A-Z a-z 0-9 . _ -, not starting with . or -"))
    vcpus = colander.SchemaNode(colander.Int(), validator=colander.Range(1, 4096))
    memory = colander.SchemaNode(colander.Int(), validator=colander.Range(1, 16 * 1024 * 1024),
                                 description="MiB")
    disks = colander.SchemaNode(colander.Sequence(), NewDisk(validator=_disk_is_new_or_old),
                                missing=(), validator=colander.Length(0, 16))
    cdrom = CDROM(missing=None)
    networks = colander.SchemaNode(colander.Sequence(), NewNIC(validator=_nic_has_one_source),
                                   missing=(), validator=colander.Length(0, 16))
    boot = colander.SchemaNode(colander.Sequence(), colander.SchemaNode(
        colander.String(), validator=colander.OneOf(("hd", "cdrom", "network"))),
        missing=("hd",), validator=colander.Length(1, 3))
    firmware = colander.SchemaNode(colander.String(), missing="bios",
                                   validator=colander.OneOf(("bios", "uefi")))
    autostart = colander.SchemaNode(Switch(), missing=False)
    description = colander.SchemaNode(colander.String(), missing="",
                                      validator=colander.Length(0, 1000))
    start = colander.SchemaNode(Switch(), missing=False)


class DeleteQuery(colander.MappingSchema):
    force = colander.SchemaNode(Flag(), missing=False,
                                description="destroy a running VM first")
    volumes = colander.SchemaNode(colander.String(), missing="keep",
                                  validator=colander.OneOf(("keep", "remove")),
                                  description="remove: delete its disk volumes too")

# -- editing and cloning VMs (views/editing.py) --------------------------------------------------

BOOT_DEVICES = ("hd", "cdrom", "network")
# Characters XML 1.0 cannot hold, which libvirt would refuse in a description.
_NOT_IN_XML = r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]"


def _no_repeats(node, value):
    if len(set(value)) != len(value):
        raise colander.Invalid(node, "a boot device is named once")


def _text_xml_holds(node, value):
    if re.search(_NOT_IN_XML, value):
        raise colander.Invalid(node, f"{node.name} holds a control character XML cannot hold")


def _changes_something(node, value):
    if not value:
        raise colander.Invalid(node, "name at least one of vcpus, memory, max_memory, "
                                     "autostart, description, boot")


class Text(colander.String):
    """Text, and only text: colander's String would take `{}` or `7` as their spelling."""

    def deserialize(self, node, cstruct):
        if cstruct is not colander.null and not isinstance(cstruct, str):
            raise colander.Invalid(node, f"{node.name} is to be text")
        return super().deserialize(node, cstruct)


class Whole(colander.Int):
    """A whole number, as JSON's number or a form's digits: colander's Int would take `{}`,
    `[]` or `""` as left out, and `true` as 1."""

    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return cstruct
        if isinstance(cstruct, bool) or not isinstance(cstruct, (int, str)) or (
                isinstance(cstruct, str) and not re.fullmatch(r"-?[0-9]{1,12}", cstruct)):
            raise colander.Invalid(node, f"{node.name} is to be a whole number")
        return super().deserialize(node, cstruct)


class EditVMBody(colander.MappingSchema):
    """`PATCH /vm/<uuid>`: the settings to change, at least one, and nothing else."""

    min_properties = 1      # what `_changes_something` checks, as the document says it

    @staticmethod
    def schema_type():
        return colander.Mapping(unknown="raise")

    vcpus = colander.SchemaNode(Whole(), validator=colander.Range(1, 4096),
                                missing=colander.drop)
    memory = colander.SchemaNode(Whole(), validator=colander.Range(1, 16 * 1024 * 1024),
                                 missing=colander.drop, description="MiB, at most max_memory")
    max_memory = colander.SchemaNode(Whole(),
                                     validator=colander.Range(1, 16 * 1024 * 1024),
                                     missing=colander.drop, description="MiB")
    autostart = colander.SchemaNode(Switch(), missing=colander.drop)
    description = colander.SchemaNode(
        Text(allow_empty=True), missing=colander.drop,
        validator=colander.All(colander.Length(0, 4096), _text_xml_holds),
        description="at most 4096 characters; \"\" removes it")
    boot = colander.SchemaNode(colander.Sequence(), colander.SchemaNode(
        colander.String(), validator=colander.OneOf(BOOT_DEVICES)),
        missing=colander.drop, validator=colander.All(colander.Length(1, 3), _no_repeats),
        description="the boot order: hd, cdrom, network, each at most once")

    def __init__(self, *args, **kw):
        super().__init__(*args, validator=_changes_something, **kw)


class CloneBody(colander.MappingSchema):
    """`POST /vm/<uuid>/clone`: the copy's name."""

    name = colander.SchemaNode(
        Text(), validator=colander.Regex(
            VM_NAME, "a name is 1 to 64 of A-Z a-z 0-9 . _ -, not starting with . or -"))


# -- virtual networks ---------------------------------------------------------------------------

NETWORK_NAME = LIBVIRT_NAME


class NewNetworkBody(colander.MappingSchema):
    """`POST /networks`: `{"name": "lab", "subnet": "10.232.1.0/24"}` defines a NAT network."""

    name = colander.SchemaNode(
        colander.String(), validator=colander.Regex(NETWORK_NAME, msg="is not a network name "
                                                    "(at most 64 of A-Z a-z 0-9 . _ -, not "
                                                    "starting with . or -)"),
        description="at most 64 of A-Z a-z 0-9 . _ -, not starting with . or -")
    subnet = colander.SchemaNode(colander.String(), validator=colander.Length(1, 64),
                                 description="an IPv4 network, prefix 8 to 30: 10.232.1.0/24; "
                                             "the gateway is its first address")
    dhcp_start = colander.SchemaNode(colander.String(), validator=colander.Length(1, 64),
                                     missing=None, description="inside the subnet, not the "
                                     "gateway; the upper half of the subnet if left out")
    dhcp_end = colander.SchemaNode(colander.String(), validator=colander.Length(1, 64),
                                   missing=None, description="inside the subnet, not before "
                                   "dhcp_start")
    autostart = colander.SchemaNode(Switch(), missing=False)
    start = colander.SchemaNode(Switch(), missing=False)


class NetworkActionBody(colander.MappingSchema):
    """`POST /networks/<name>/action`: `{"action": "start"}`."""

    action = colander.SchemaNode(
        colander.String(),
        validator=colander.OneOf(("start", "stop", "autostart", "noautostart")),
        description="one of start, stop, autostart, noautostart")


# -- the devices of a VM (views/devices.py) ----------------------------------------------------

def _optional_switch(description):
    return colander.SchemaNode(Switch(), missing=None, description=description)


LIVE = "change the running VM (default: when it runs)"
PERSISTENT = "change its definition, for the next boots (default: when it has one)"


class MediumBody(colander.MappingSchema):
    """`PUT /vm/<uuid>/cdroms/<target>`: the ISO volume to insert."""

    pool = _storage_name("the pool of the ISO")
    volume = _storage_name("the ISO volume")


class NewDiskBody(colander.MappingSchema):
    """`POST /vm/<uuid>/disks`: an existing volume (`volume`) or a new one (`size_gib`)."""

    pool = _storage_name("the pool of the volume")
    volume = colander.SchemaNode(colander.String(), missing=None, validator=colander.Regex(
        STORAGE_NAME, msg=f"a name is {STORAGE_NAME_WORDS}"),
        description="an existing volume, not used by another VM")
    size_gib = colander.SchemaNode(colander.Float(), missing=None,
                                   validator=colander.Range(min=0.001, max=65536),
                                   description="the size of a new volume, in GiB")
    format = colander.SchemaNode(colander.String(), missing="qcow2",
                                 validator=colander.OneOf(VOLUME_FORMATS),
                                 description="a new volume's: qcow2 or raw")
    bus = colander.SchemaNode(colander.String(), missing="virtio",
                              validator=colander.OneOf(("virtio", "sata", "ide", "scsi")))
    target = colander.SchemaNode(colander.String(), missing=None,
                                 validator=colander.Regex(DRIVE_TARGET),
                                 description="the drive's name (vdb, sdb, ...); else the next "
                                             "free one of the bus")
    live = _optional_switch(LIVE)
    persistent = _optional_switch(PERSISTENT)

    def validator(self, node, value):
        _disk_is_new_or_old(node, value)


class NewNICBody(colander.MappingSchema):
    """`POST /vm/<uuid>/nics`: a NIC on a virtual network or on a host bridge."""

    network = colander.SchemaNode(colander.String(), missing=None,
                                  validator=colander.Regex(NETWORK_NAME))
    bridge = colander.SchemaNode(colander.String(), missing=None,
                                 validator=colander.Regex(r"^[A-Za-z0-9._-]{1,15}$"))
    model = colander.SchemaNode(colander.String(), missing="virtio",
                                validator=colander.OneOf(("virtio", "e1000", "rtl8139")))
    mac = colander.SchemaNode(colander.String(), missing=None,
                              validator=colander.Regex(MAC_ADDRESS),
                              description="a unicast MAC no NIC on the host has; else "
                                          "libvirt chooses one")
    live = _optional_switch(LIVE)
    persistent = _optional_switch(PERSISTENT)

    def validator(self, node, value):
        _nic_has_one_source(node, value)


class DetachQuery(colander.MappingSchema):
    """`DELETE /vm/<uuid>/disks/<target>` and `/nics/<mac>`: where to detach it."""

    live = colander.SchemaNode(Flag(), missing=None, description=LIVE)
    persistent = colander.SchemaNode(Flag(), missing=None, description=PERSISTENT)


# -- the audit trail (GET /audit) -------------------------------------------------------------

def _encodable(text):
    """Text SQLite can be given: UTF-8, without lone surrogates."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode text"
    return True


def _audit_filter(description, longest=256):
    # An empty value is refused, not read as no filter: the document says 1 character at least.
    return colander.SchemaNode(
        colander.String(allow_empty=True), missing=None, description=description,
        validator=colander.All(colander.Length(1, longest), colander.Function(_encodable)))


AUDIT_PAGE_MAX = 1000
LARGEST_ID = 2 ** 63 - 1       # SQLite's largest integer


class AuditQuery(colander.MappingSchema):
    """`GET /audit?user=tenant&vm=web-1&since=...&limit=50&before=1234`."""

    user = _audit_filter("only the records of this user (a failed login's: the name it tried)")
    host = _audit_filter("only the records of this host")
    vm = _audit_filter("only the records of this VM, by UUID or by name")
    action = _audit_filter("only the records of this action: vm.destroy, vm.create, login, ...",
                           longest=128)
    since = colander.SchemaNode(QueryTime(), missing=None,
                                description="only the records of this time or later")
    until = colander.SchemaNode(QueryTime(), missing=None,
                                description="only the records of this time or earlier")
    before = colander.SchemaNode(
        colander.Integer(), missing=None, validator=colander.Range(1, LARGEST_ID),
        description="paging: only the records older than the record of this id (the previous "
                    "page's `next_before`)")
    limit = colander.SchemaNode(
        colander.Integer(), missing=100, validator=colander.Range(1, AUDIT_PAGE_MAX),
        description=f"at most this many records (1 to {AUDIT_PAGE_MAX}; 100 if not given)")


# -- tasks (GET /tasks, and operations that answer 202 with a task) ----------------------------

MAX_WAIT = 3600
# A filter given empty (`?vm=`) is malformed, not left out: its validator refuses "".
NON_EMPTY = colander.String(allow_empty=True)


class TaskQuery(colander.MappingSchema):
    """`GET /tasks`: filters, each optional."""

    host = colander.SchemaNode(NON_EMPTY, missing=None,
                               validator=colander.Regex(f"^{HOST_NAME.pattern}$"),
                               description="only the tasks of this host")
    vm = colander.SchemaNode(NON_EMPTY, missing=None,
                             validator=colander.Regex(UUID),
                             description="only the tasks of the VM of this UUID")
    state = colander.SchemaNode(NON_EMPTY, missing=None,
                                validator=colander.OneOf(TASK_STATES),
                                description="only tasks in this state: "
                                            + ", ".join(TASK_STATES))
    limit = colander.SchemaNode(Whole(), missing=200, validator=colander.Range(1, 1000),
                                description="at most so many tasks (1 to 1000; 200)")


class ActionQuery(colander.MappingSchema):
    """`POST /vm/<uuid>/action?wait=<seconds>`: a shutdown as a task that waits for the guest."""

    wait = colander.SchemaNode(
        Whole(), missing=None, validator=colander.Range(1, MAX_WAIT),
        description=f"shutdown only: answer 202 with a task that waits at most so many seconds "
                    f"(1 to {MAX_WAIT}) for the VM to be off, and fails if it is not")


# -- migration ----------------------------------------------------------------------------------

class MigrateBody(colander.MappingSchema):
    """`POST /vm/<uuid>/migrate`: `{"host": "lab"}` moves the VM to that host of the registry."""

    host = colander.SchemaNode(
        Text(), validator=colander.Regex(f"^{HOST_NAME.pattern}$",
                                         "a host's name is lowercase letters, digits and -"),
        description="the host to move the VM to: another host of /hosts")
    live = colander.SchemaNode(Switch(), missing=True,
                               description="a running VM keeps running while it moves (true), "
                                           "or is paused while it moves (false)")
    offline = colander.SchemaNode(Switch(), missing=False,
                                  description="move a shut-off VM: its definition only")


# -- snapshots ----------------------------------------------------------------------------------

class NewSnapshotBody(colander.MappingSchema):
    """`POST /vm/<uuid>/snapshots`: `{name, description, memory}`."""

    name = colander.SchemaNode(
        Text(), validator=colander.Regex(
            SNAPSHOT_NAME, "a snapshot's name is 1 to 64 of A-Z a-z 0-9 . _ -, not starting "
                           "with . or -"))
    description = colander.SchemaNode(Text(), missing="", validator=colander.Length(max=1000),
                                      description="up to 1000 characters")
    memory = colander.SchemaNode(
        Switch(), missing=False,
        description="keep the running VM's memory too (a running VM's snapshot needs it; a "
                    "shut-off VM has none)")


class RevertBody(colander.MappingSchema):
    """`POST /vm/<uuid>/snapshots/<name>/revert`: `{start}`."""

    start = colander.SchemaNode(Switch(), missing=False,
                                description="run the VM afterwards, whatever its state was "
                                            "when the snapshot was taken")


class DeleteSnapshotQuery(colander.MappingSchema):
    children = _flag("delete its descendants too (else they are kept, under its parent)")
