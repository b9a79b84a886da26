"""How the API shows a VM: the first VirtDancer's wire shapes, built from the hypervisor
service's plain values (`VMSummary`, `VMDetail`).

Its clients read these field names and types, so they are kept exactly; VirtDancer's own
additions (`actions`, `description` in answers about one VM, and `host` in answers that span
hosts) come after them.
"""

from .hypervisor import allowed_actions, has_display_state


def summary_answer(vm):
    """`{uuid, name, active}`: one VM of a list without `?detail=1`."""
    return {"uuid": vm.uuid, "name": vm.name, "active": vm.active}


def detail_answer(vm, operates):
    """The first VirtDancer's detail object of `vm`, with what the user may do to it now.

    `actions`: the lifecycle actions its state allows if the user `operates` it (has OPERATE
    on it), none otherwise; `console`: the user may open its console now; `operable`: the user
    has OPERATE on it at all. The page decides everything from these three: it keeps no copy
    of the roles or of the states with a display, so it can never disagree with the server.
    """
    answer = {
        "id": vm.id,
        "uuid": vm.uuid,
        "name": vm.name,
        "active": vm.active,
        "persistent": vm.persistent,
        "updated": vm.updated,
        "os": vm.os,
        "autostart": vm.autostart,
        "info": {
            "maxMem": vm.max_memory_kib,
            "memory": vm.memory_kib,
            "cpuTime": vm.cpu_time_ns,
            "nrVirtCpu": vm.vcpus,
            "state": vm.state,
        },
        "state_name": vm.state_name,
        "actions": allowed_actions(vm.state, vm.active) if operates else [],
        "console": operates and has_display_state(vm.state),
        # Said apart from `actions`: an empty list alone would not tell the page whether the
        # user may not act on the VM or its state allows nothing.
        "operable": operates,
    }
    if vm.description is not None:
        answer["description"] = vm.description
    return answer
