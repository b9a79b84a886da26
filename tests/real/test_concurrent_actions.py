"""Actions racing on one real QEMU VM: each is done or refused with a 409, never a 502.

QEMU refuses an action its VM's state no longer allows with VIR_ERR_OPERATION_INVALID ("domain
is not running" when a shutdown meets a VM another request has just paused, "domain is already
running" when a resume meets one another request has just resumed). By the time VirtDancer
looks again the VM may be back in the state it checked, so the refusal must be known by what
libvirt says, not only by the state VirtDancer finds afterwards.
"""

from ..concurrently import assert_done_or_refused, post_actions
from ..conftest import Server
from .conftest import PAUSED, RUNNING

STATE_NAMES = {RUNNING: "running", PAUSED: "paused"}

# Neither stops the VM: shutdown and reboot only ask a guest this disk-less VM does not have.
ACTIONS = ("pause", "resume", "shutdown", "pause", "reboot", "resume")
ROUNDS = 4
REQUESTS_PER_ROUND = 36


def test_racing_actions_on_a_qemu_vm_are_done_or_409_with_its_state(app, make_vm):
    vm = make_vm(start=True)
    server = Server(app, threads=REQUESTS_PER_ROUND)
    try:
        statuses = {}
        for _ in range(ROUNDS):
            actions = [ACTIONS[i % len(ACTIONS)] for i in range(REQUESTS_PER_ROUND)]
            answers = post_actions(server.origin, vm.uuid, actions)
            for status, count in assert_done_or_refused(answers, STATE_NAMES).items():
                statuses[status] = statuses.get(status, 0) + count
    finally:
        server.close()
    print(f"{ROUNDS * REQUESTS_PER_ROUND} racing actions: {statuses}")
    assert statuses.get(409), "no action was refused: the actions did not race"
    assert vm.state() in ("running", "paused"), "the races must never stop the VM"
