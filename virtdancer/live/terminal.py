"""`virtdancer events INI`: the hosts' live events in a terminal, one line each (or JSON)."""

import datetime
import json
import queue

from .hub import QueueSubscription, Viewer


def in_words(event):
    """One line saying an event: `12:04:05  default  web-1  suspended (paused): paused`."""
    when = datetime.datetime.fromtimestamp(event["time"]).strftime("%H:%M:%S")
    what = event.get("vm") and event["vm"]["name"] or "-"
    kind = event["type"]
    if kind == "lifecycle":
        said = f"{event['event']} ({event['detail']})"
        if event.get("state_name"):
            said += f": {event['state_name']}"
    elif kind == "host":
        said = f"host {event['state']}" + (f" ({event['reason']})" if event.get("reason")
                                           else "")
    elif kind in ("device-added", "device-removed"):
        said = f"{kind} {event.get('device')}"
    elif kind in ("pool", "network"):
        said = f"{kind} {event[kind]} {event['event']}"
    elif kind == "metadata":
        said = f"metadata changed: {event.get('metadata')}"
    else:
        said = kind
    return f"{when}  {event['host']}  {what}  {said}"


def watch(hub, output, host=None, as_json=False, count=None, stop=None, then=None, poll=0.5):
    """Print the hub's events of `host` (every host: None) to `output` as they come, `count`
    of them (None: until `stop()` says so or the process is interrupted).

    `then()` is called once listening, before the first event is waited for: what starts the
    events (connecting to the hosts) goes there, or their first events would be missed.
    """
    subscription = QueueSubscription(Viewer(sees_host=None if host is None
                                            else (lambda name: name == host)))
    hub.subscribe(subscription)
    printed = 0
    try:
        if then is not None:
            then()
        while count is None or printed < count:
            if stop is not None and stop():
                break
            try:
                event = subscription.queue.get(timeout=poll)
            except queue.Empty:
                continue
            print(json.dumps(event) if as_json else in_words(event), file=output, flush=True)
            printed += 1
            if subscription.overflowed:
                print("(events were dropped: this terminal did not keep up)", file=output)
                subscription.overflowed = False
    finally:
        hub.unsubscribe(subscription)
    return printed
