"""Many lifecycle actions on one VM at once, over real HTTP: what both rings' race tests share.

Each action is its own client thread; a barrier lets them all go at the same moment, so that
VirtDancer's state check and libvirt's call of one request interleave with the others'.
"""

import base64
import json
import threading
import urllib.error
import urllib.request
from collections import Counter


def post_actions(origin, uuid, actions, credentials=("admin", "admin"), timeout=120):
    """POST every action of `actions` to `/vm/<uuid>/action` at once; `[(action, status, body)]`."""
    token = base64.b64encode(":".join(credentials).encode()).decode()
    headers = {"Content-Type": "application/json", "Authorization": f"Basic {token}"}
    url = f"{origin}/vm/{uuid}/action"
    barrier = threading.Barrier(len(actions))
    answers = []

    def post(action):
        request = urllib.request.Request(url, json.dumps({"action": action}).encode(), headers)
        barrier.wait()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                answers.append((action, response.status, json.load(response)))
        except urllib.error.HTTPError as error:
            answers.append((action, error.code, json.load(error)))

    threads = [threading.Thread(target=post, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == len(actions), "a request got no HTTP answer"
    return answers


def assert_done_or_refused(answers, state_names):
    """Every answer is a 200 or a 409 that names a real state; the count of each status.

    `state_names`: the states the VM may be in while the actions run, as {state: name}.
    """
    statuses = Counter(status for _, status, _ in answers)
    failures = [(action, status, body.get("message")) for action, status, body in answers
                if status not in (200, 409)]
    assert not failures, f"{len(failures)} of {len(answers)} answers were neither 200 nor " \
                         f"409: {failures[:5]} (all: {dict(statuses)})"
    for action, status, body in answers:
        if status == 409:
            assert body["code"] == 409 and body["status"] == "error"
            assert body["state"] in state_names, body
            assert body["state_name"] == state_names[body["state"]], body
            assert action in body["message"] and body["state_name"] in body["message"], body
        else:
            assert body["result"] == "done"
    return statuses
