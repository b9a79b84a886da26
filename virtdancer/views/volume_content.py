"""A volume's bytes, written as tasks: an upload (PUT .../content) and a copy (POST .../clone).

Both check what they can at once (the room, a name taken, a volume in use: 4xx/409 answers of
the request) and then answer `202` with a task, which does the long part and may fail only for
what could not be known before.
"""

from .. import answers
from ..hypervisor.errors import Refused
from ..hypervisor.storage import VolumesInUse
from ..permissions import Permission
from ..resources.pools import Volume, volume_hold
from ..schemas import CloneVolumeBody
from .bodies import body_validator
from .errors import error_response
from .pools import in_use_refusal, in_use_words, volume_answer
from .service import PerHostService
from .taken_body import BodyTooShort, take_body
from .tasks import accept

# What an upload's body is: the volume's bytes, at least one.
UPLOAD_CONTENT = {"application/octet-stream": {"schema": {"type": "string", "format": "binary",
                                                          "minLength": 1}}}
# Why a volume a running VM uses is not copied.
INCONSISTENT = "a copy of a disk a running VM writes to would be inconsistent: shut it down first"

volume_content = PerHostService("virtdancer.volume.content", "Upload a volume's content")
volume_clone = PerHostService("virtdancer.volume.clone", "Copy a volume")


def _volume_url(request, pool, name):
    route = request.matched_route.name.rsplit(".", 1)[0]      # ….volume.content → ….volume
    return request.route_url(route, **{**request.matchdict, "pool": pool, "volume": name})


@volume_content.put(context=Volume, permission=Permission.ADMIN,
                    response_schemas={202: answers.TaskAnswer()},
                    request_content=UPLOAD_CONTENT, errors=(409, 411, 502, 503))
def upload_content(request):
    """A task (type `upload_volume`) that streams the body (its Content-Length bytes) into
    the volume, with progress from the bytes sent; a volume not there yet is made, raw, of
    that size. Its result is the volume, its `url`, and whether it was `created`."""
    volume = request.context
    length = request.content_length
    if not length:
        return error_response(400, "an upload needs a body: the volume's bytes",
                              location="body")
    try:
        volume.check_upload(length)
    except VolumesInUse as error:
        return in_use_refusal(error, volume.sees)
    try:
        body = take_body(request.environ, length)
    except BodyTooShort:
        return error_response(400, f"the body ended before its Content-Length ({length} "
                              "bytes)", location="body")
    url = _volume_url(request, volume.pool.name, volume.name)

    def work(task):
        try:
            info, created = volume.upload(body, length, task.progress, task.check_cancelled)
        except VolumesInUse as error:       # a VM took it meanwhile
            raise Refused(in_use_words(error, volume.sees)) from None
        finally:
            body.close()
        return {**volume_answer(info, volume.sees), "url": url, "created": created}

    try:
        # Cancelling sets the task's flag, which the upload reads between two chunks.
        return accept(request, "upload_volume", work, volume.host.name, changes_vm=False,
                      canceller=lambda: None, holds=[volume.held()])
    except BaseException:
        body.close()
        raise


@volume_clone.post(context=Volume, permission=Permission.ADMIN, schema=CloneVolumeBody(),
                   validators=(body_validator,), response_schemas={202: answers.TaskAnswer()},
                   errors=(409, 502, 503))
def clone_volume(request):
    """A task (type `clone_volume`) that copies the volume as `name` into `pool` (default:
    its own); its result is the copy and its `url`. libvirt cannot stop a copy half-way, so
    the task cannot be cancelled once it runs."""
    volume = request.context
    body = request.validated
    target = body["pool"] or volume.pool.name
    try:
        volume.check_clone(body["name"], target, body["format"])
    except VolumesInUse as error:
        return in_use_refusal(error, volume.sees, because=INCONSISTENT)
    url = _volume_url(request, target, body["name"])

    def work(task):
        try:
            info = volume.clone(body["name"], target, body["format"], task.watch)
        except VolumesInUse as error:       # the VM was started meanwhile
            raise Refused(f"{in_use_words(error, volume.sees)}; {INCONSISTENT}") from None
        return {**volume_answer(info, volume.sees), "url": url}

    return accept(request, "clone_volume", work, volume.host.name, changes_vm=False,
                  holds=[volume.held(), volume_hold(volume.host.name, target, body["name"])])
