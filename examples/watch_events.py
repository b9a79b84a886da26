#!/usr/bin/env python3
"""Print VirtDancer's live events as they happen: a script's use of the event channel.

    python examples/watch_events.py http://localhost:6543/ --user viewer:viewer
    VIRTDANCER_TOKEN=vd_... python examples/watch_events.py https://virt.example.com/

It asks `POST /events` for the channel's URL (HTTP Basic with --user, else the API token in
VIRTDANCER_TOKEN), connects a WebSocket (the `websockets` package) and prints each event on a
line. When the channel drops, it asks for a new ticket and resumes after the last `seq` it
printed; told to reload, it says so and goes on from there.
"""

import argparse
import asyncio
import base64
import json
import os
import sys
import urllib.request

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake


def channel_url(api, authorization):
    """The channel's URL with a fresh one-time ticket, from POST /events."""
    request = urllib.request.Request(api.rstrip("/") + "/events", data=b"", method="POST",
                                     headers={"Authorization": authorization})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)["url"]


def line(event):
    vm = (event.get("vm") or {}).get("name", "-")
    said = {key: value for key, value in event.items()
            if key not in ("seq", "time", "host", "type", "vm", "summary", "vm_detail")}
    return f"{event['seq']:>6}  {event['host'] or '-'}  {vm}  {event['type']}  " \
           f"{json.dumps(said)}"


async def watch(api, authorization, count=None):
    since, printed, pause = None, 0, 1
    while count is None or printed < count:
        url = await asyncio.to_thread(channel_url, api, authorization)
        if since is not None:
            url += f"&since={since}"
        try:
            async with connect(url) as websocket:
                pause = 1
                async for message in websocket:
                    event = json.loads(message)
                    since = event["seq"]
                    print(line(event) if event["type"] != "reload"
                          else f"{since:>6}  (events were missed: read the fleet again)",
                          flush=True)
                    printed += 1
                    if count is not None and printed >= count:
                        return
        except (ConnectionClosed, InvalidHandshake, OSError) as error:
            print(f"channel lost ({error}); reconnecting in {pause} s", file=sys.stderr)
            await asyncio.sleep(pause)
            pause = min(pause * 2, 30)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("api", help="VirtDancer's URL, e.g. http://localhost:6543/")
    parser.add_argument("--user", help="user:password for HTTP Basic (else VIRTDANCER_TOKEN)")
    parser.add_argument("--count", type=int, help="stop after this many events")
    args = parser.parse_args()
    if args.user:
        authorization = "Basic " + base64.b64encode(args.user.encode()).decode()
    elif os.environ.get("VIRTDANCER_TOKEN"):
        authorization = "Bearer " + os.environ["VIRTDANCER_TOKEN"]
    else:
        parser.error("give --user user:password or set VIRTDANCER_TOKEN")
    try:
        asyncio.run(watch(args.api, authorization, args.count))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
