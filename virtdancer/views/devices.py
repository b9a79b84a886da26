"""The devices of one VM: CD-ROM media (operators), disks and NICs (admins).

Each change answers the device as `GET /vm/<uuid>` lists it, or `{result: "detached", live,
persistent, pending}`.
"""

from .. import answers
from ..hypervisor.storage import VolumesInUse
from ..permissions import Permission
from ..resources.devices import NIC, CDROMDrive, Disk, Disks, NICs
from ..schemas import DetachQuery, MediumBody, NewDiskBody, NewNICBody
from .bodies import body_validator
from .pools import in_use_refusal
from .service import PerHostService

cdrom = PerHostService("virtdancer.vm.cdrom", "The medium of a VM's CD-ROM drive")
disks = PerHostService("virtdancer.vm.disks", "Attach a disk to a VM")
disk = PerHostService("virtdancer.vm.disk", "Detach a disk from a VM")
nics = PerHostService("virtdancer.vm.nics", "Attach a NIC to a VM")
nic = PerHostService("virtdancer.vm.nic", "Detach a NIC from a VM")

# What every device change may answer besides 200/201: no such VM, device, volume or network;
# a state or a use that forbids it; a host driver without the call (501).
CHANGE_ERRORS = (404, 409, 501, 502, 503)


@cdrom.put(context=CDROMDrive, permission=Permission.OPERATE, schema=MediumBody(),
           validators=(body_validator,), response_schemas={200: answers.CDROMAnswer()},
           errors=CHANGE_ERRORS)
def insert_medium(request):
    """Insert an ISO volume into the drive (the running VM's and its definition's)."""
    body = request.validated
    try:
        return request.context.insert(body["pool"], body["volume"])
    except VolumesInUse as error:
        return in_use_refusal(error, request.context.sees)


@cdrom.delete(context=CDROMDrive, permission=Permission.OPERATE,
              response_schemas={200: answers.CDROMAnswer()}, errors=CHANGE_ERRORS)
def eject_medium(request):
    """Empty the drive."""
    return request.context.eject()


@disks.post(context=Disks, permission=Permission.ADMIN, schema=NewDiskBody(),
            validators=(body_validator,), response_schemas={201: answers.DiskAnswer()},
            errors=(400, *CHANGE_ERRORS))
def attach_disk(request):
    """Attach an existing volume, or a new one made for it (deleted again if the attach
    fails); 201 with its Location."""
    try:
        attached = request.context.attach(request.validated)
    except VolumesInUse as error:
        return in_use_refusal(error, request.context.sees)
    request.response.status_code = 201
    request.response.location = request.route_url(
        request.matched_route.name[:-1], target=attached["target"], **request.matchdict)
    return attached


@disk.delete(context=Disk, permission=Permission.ADMIN, query=DetachQuery(),
             response_schemas={200: answers.DetachedAnswer()}, errors=(400, *CHANGE_ERRORS))
def detach_disk(request):
    """Detach the disk; its volume stays."""
    return request.context.detach(request.validated["live"], request.validated["persistent"])


@nics.post(context=NICs, permission=Permission.ADMIN, schema=NewNICBody(),
           validators=(body_validator,), response_schemas={201: answers.NICAnswer()},
           errors=(400, *CHANGE_ERRORS))
def attach_nic(request):
    """Attach a NIC on a virtual network or a host bridge; 201 with its Location."""
    attached = request.context.attach(request.validated)
    request.response.status_code = 201
    request.response.location = request.route_url(
        request.matched_route.name[:-1], mac=attached["mac"], **request.matchdict)
    return attached


@nic.delete(context=NIC, permission=Permission.ADMIN, query=DetachQuery(),
            response_schemas={200: answers.DetachedAnswer()}, errors=(400, *CHANGE_ERRORS))
def detach_nic(request):
    """Detach the NIC."""
    return request.context.detach(request.validated["live"], request.validated["persistent"])
