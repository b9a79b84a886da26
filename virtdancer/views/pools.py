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


def pool_answer(info):
    return info._asdict()


def volume_answer(info, sees):
    fields = info._asdict()
    users = fields.pop("users")
    return {**fields, "in_use": bool(users),
            "used_by": [{"uuid": user.uuid, "name": user.name}
                        for user in users if sees(user.name)]}


def in_use_words(error, sees):
    """"in use: <volume> is used by <VMs>", naming the users this user sees (the others only
    as "another VM")."""
    parts = []
    for volume_name, users in error.used:
        names = [user.name for user in users if sees(user.name)]
        hidden = len(users) - len(names)
        if hidden:
            names.append("another VM" if hidden == 1 else f"{hidden} other VMs")
        parts.append(f"{volume_name} is used by {', '.join(names)}")
    return "in use: " + "; ".join(parts)


def in_use_refusal(error, sees, because=""):
    """A 409 saying `in_use_words` (and `because`, why that refuses the request)."""
    return error_response(409, in_use_words(error, sees) + (f"; {because}" if because else ""),
                          location="hypervisor")


def busy_refusal(request, volume):
    """A 409 when a task (an upload, a copy) changes the volume now; else None."""
    key, what = volume.held()
    holder = request.tasks.holder(key)
    if holder is None:
        return None
    return error_response(409, f"{what} has a task that changes it: task {holder}; wait for "
                          "it to end or cancel it", location="url")


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

    return accept(request, "create_volume", work, collection.host.name, changes_vm=False,
                  holds=[collection.held(body["name"])])


@volume.get(context=Volume, permission=Permission.READ,
            response_schemas={200: answers.VolumeAnswer()}, errors=(409, 502, 503))
def show_volume(request):
    return volume_answer(request.context.info(), request.context.sees)


@volume.patch(context=Volume, permission=Permission.ADMIN, schema=ResizeVolumeBody(),
              validators=(body_validator,), response_schemas={200: answers.VolumeAnswer()},
              errors=(409, 502, 503))
def resize_volume(request):
    """Grow a volume to `capacity_mib` MiB."""
    busy = busy_refusal(request, request.context)
    if busy is not None:
        return busy
    info = request.context.resize(request.validated["capacity_mib"])
    return volume_answer(info, request.context.sees)


@volume.delete(context=Volume, permission=Permission.ADMIN,
               response_schemas={200: answers.DeletedAnswer()}, errors=(409, 502, 503))
def delete_volume(request):
    busy = busy_refusal(request, request.context)
    if busy is not None:
        return busy
    try:
        request.context.delete()
    except VolumesInUse as error:
        return in_use_refusal(error, request.context.sees)
    return {"result": "deleted"}
