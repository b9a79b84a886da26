"""Storage pools and volumes of a host: list them, and (admins) make, change and delete them."""

from .. import answers
from ..hypervisor.storage import VolumesInUse
from ..openapi.links import Link
from ..permissions import Permission
from ..resources.pools import Pool, PoolCollection, Volume, VolumeCollection
from ..schemas import (
    DeletePoolQuery,
    NewPoolBody,
    NewVolumeBody,
    PoolActionBody,
    ResizeVolumeBody,
)
from .bodies import body_validator
from .errors import error_response
from .service import PerHostService
from .tasks import accept

pools = PerHostService("virtdancer.pools", "The host's storage pools")
pool = PerHostService("virtdancer.pool", "One storage pool")
pool_action = PerHostService("virtdancer.pool.action", "Start, stop, refresh a storage pool")
volumes = PerHostService("virtdancer.volumes", "The volumes of a storage pool")
volume = PerHostService("virtdancer.volume", "One volume")
# What an upload's body is: the volume's bytes, at least one.
UPLOAD_CONTENT = {"application/octet-stream": {"schema": {"type": "string", "format": "binary",
                                                          "minLength": 1}}}
volume_content = PerHostService("virtdancer.volume.content", "Upload a volume's content")


def pool_answer(info):
    return info._asdict()


def volume_answer(info, sees):
    fields = info._asdict()
    users = fields.pop("users")
    return {**fields, "in_use": bool(users),
            "used_by": [{"uuid": user.uuid, "name": user.name}
                        for user in users if sees(user.name)]}


def in_use_refusal(error, sees):
    """A 409 naming the volumes' users this user sees (the others only as "a VM")."""
    parts = []
    for volume_name, users in error.used:
        names = [user.name for user in users if sees(user.name)]
        hidden = len(users) - len(names)
        if hidden:
            names.append("another VM" if hidden == 1 else f"{hidden} other VMs")
        parts.append(f"{volume_name} is used by {', '.join(names)}")
    return error_response(409, "in use: " + "; ".join(parts), location="hypervisor")


@pools.get(context=PoolCollection, permission=Permission.READ,
           response_schemas={200: answers.PoolList()}, errors=(502, 503))
def list_pools(request):
    """Every storage pool of the host."""
    return [pool_answer(info) for info in request.context.pools()]


@pools.post(context=PoolCollection, permission=Permission.ADMIN, schema=NewPoolBody(),
            validators=(body_validator,), response_schemas={201: answers.PoolAnswer()},
            errors=(409, 502, 503),
            links={201: (Link.to("get", "virtdancer.pool", pool="name"),
                         Link.to("get", "virtdancer.volumes", pool="name"),
                         Link.to("post", "virtdancer.volumes", pool="name"),
                         Link.to("post", "virtdancer.pool.action", pool="name"),
                         Link.to("delete", "virtdancer.pool", pool="name"))})
def define_pool(request):
    """Define a `dir` pool; 201 with its Location."""
    body = request.validated
    info = request.context.define(body["name"], body["path"], body["autostart"], body["start"])
    request.response.status_code = 201
    request.response.location = request.route_url(
        request.matched_route.name.replace("pools", "pool"), pool=info.name,
        **request.matchdict)
    return pool_answer(info)


@pool.get(context=Pool, permission=Permission.READ, response_schemas={200: answers.PoolAnswer()},
          errors=(502, 503))
def show_pool(request):
    return pool_answer(request.context.info())


@pool.delete(context=Pool, permission=Permission.ADMIN, query=DeletePoolQuery(),
             response_schemas={200: answers.DeletedAnswer()}, errors=(409, 502, 503))
def delete_pool(request):
    """Stop and undefine a pool; its files stay unless `?delete_files=1`."""
    try:
        request.context.delete(request.validated["delete_files"])
    except VolumesInUse as error:
        return in_use_refusal(error, request.context.sees)
    return {"result": "deleted"}


@pool_action.post(context=Pool, permission=Permission.ADMIN, schema=PoolActionBody(),
                  validators=(body_validator,), response_schemas={200: answers.PoolAnswer()},
                  errors=(409, 502, 503))
def run_pool_action(request):
    return pool_answer(request.context.run(request.validated["action"]))


@volumes.get(context=VolumeCollection, permission=Permission.READ,
             response_schemas={200: answers.VolumeList()}, errors=(409, 502, 503))
def list_volumes(request):
    """Every volume of a running pool, with the VMs (the user sees) that use it."""
    sees = request.context.sees
    return [volume_answer(info, sees) for info in request.context.volumes()]


@volumes.post(context=VolumeCollection, permission=Permission.ADMIN, schema=NewVolumeBody(),
              validators=(body_validator,), response_schemas={202: answers.TaskAnswer()},
              errors=(409, 502, 503))
def create_volume(request):
    """A task (type `create_volume`) whose result is the new volume and its `url`."""
    collection = request.context
    body = request.validated
    # Refused now, not as a failed task: a stopped pool, a name taken, no room.
    collection.check_new(body["name"], body["format"], body["capacity_mib"])
    url = request.route_url(request.matched_route.name.replace("volumes", "volume"),
                            volume=body["name"], **request.matchdict)

    def work(task):
        info = collection.create(body["name"], body["format"], body["capacity_mib"])
        return {**volume_answer(info, collection.sees), "url": url}

    return accept(request, "create_volume", work, collection.host.name, changes_vm=False)


@volume.get(context=Volume, permission=Permission.READ,
            response_schemas={200: answers.VolumeAnswer()}, errors=(409, 502, 503))
def show_volume(request):
    return volume_answer(request.context.info(), request.context.sees)


@volume.patch(context=Volume, permission=Permission.ADMIN, schema=ResizeVolumeBody(),
              validators=(body_validator,), response_schemas={200: answers.VolumeAnswer()},
              errors=(409, 502, 503))
def resize_volume(request):
    """Grow a volume to `capacity_mib` MiB."""
    info = request.context.resize(request.validated["capacity_mib"])
    return volume_answer(info, request.context.sees)


@volume.delete(context=Volume, permission=Permission.ADMIN,
               response_schemas={200: answers.DeletedAnswer()}, errors=(409, 502, 503))
def delete_volume(request):
    try:
        request.context.delete()
    except VolumesInUse as error:
        return in_use_refusal(error, request.context.sees)
    return {"result": "deleted"}


@volume_content.put(context=Volume, permission=Permission.ADMIN,
                    response_schemas={200: answers.VolumeAnswer(), 201: answers.VolumeAnswer()},
                    request_content=UPLOAD_CONTENT, errors=(409, 411, 502, 503))
def upload_content(request):
    """Stream the body (its Content-Length bytes) into the volume, 256 KiB at a time; a
    volume not there yet is made, raw, of that size (201)."""
    if not request.content_length:
        return error_response(400, "an upload needs a body: the volume's bytes",
                              location="body")
    try:
        info, created = request.context.upload(request.body_file_raw, request.content_length)
    except VolumesInUse as error:
        return in_use_refusal(error, request.context.sees)
    if created:
        request.response.status_code = 201
        request.response.location = request.route_url(
            request.matched_route.name.replace(".content", ""), **request.matchdict)
    return volume_answer(info, request.context.sees)
