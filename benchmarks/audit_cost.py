"""Benchmark: what the audit trail costs `POST /vm/<uuid>/action`, against no audit.

    python benchmarks/audit_cost.py                       # 2000 requests of each, interleaved
    python benchmarks/audit_cost.py --reps 5000 --json benchmarks/results/audit_cost.json

Two VirtDancer apps over the embedded demo fleet (libvirt's test driver), each with a state file
of its own in a temporary folder (a real file, in WAL mode, as in production): one with the
audit trail (`virtdancer.audit.enabled = true`, the default), one without. Each request pauses
or resumes web-1 (they alternate, so every one succeeds), authenticated with HTTP Basic as a
script would be; the two apps are called alternately, request by request, in-process (no
socket, no waitress), where the audit's share of a request is the largest. The `virtdancer.audit`
logger is at INFO with a handler that drops the lines, so that the JSON line is made as in
production. Goal: median with audit ≤ 1.1 × median without.

Exit status: 0 if the goal is met (always with --no-check), 1 if it is missed, 2 if the
benchmark could not measure.
"""

import argparse
import logging
import os
import sys
import tempfile

from common import REPO, REQUEST_HEADERS, fmt_ms, log, measure_interleaved, write_json

WEB_1 = "6f1c3a52-2d4e-4b8a-9e61-0a7c5d2f8b11"
GOAL = 1.1


def make_app(folder, audit):
    from virtdancer import main

    return main({}, **{
        "virtdancer.libvirt_uri": "test:///virtdancer:demo/fleet.xml",
        "virtdancer.users_file": os.path.join(REPO, "virtdancer", "demo", "users.ini"),
        "virtdancer.secret": os.urandom(32).hex(),
        "virtdancer.session.secure": "false",
        "virtdancer.state_file": os.path.join(folder, f"state-{audit}.sqlite"),
        "virtdancer.audit.enabled": str(audit).lower(),
    })


def poster(app):
    """A function that runs the next action on web-1 and answers the status."""
    from webob import Request

    actions = ["pause", "resume"]
    count = [0]

    def post():
        action = actions[count[0] % 2]
        count[0] += 1
        request = Request.blank(f"/vm/{WEB_1}/action", method="POST",
                                headers={**REQUEST_HEADERS,
                                         "Content-Type": "application/json"},
                                body=f'{{"action": "{action}"}}'.encode())
        return request.get_response(app).status_code
    return post


def run(args):
    import virtdancer
    from virtdancer.interfaces import IAuditTrail

    audit_log = logging.getLogger("virtdancer.audit")
    audit_log.setLevel(logging.INFO)
    audit_log.addHandler(logging.NullHandler())
    audit_log.propagate = False
    with tempfile.TemporaryDirectory(prefix="vd-audit-bench-") as folder:
        with_audit, without = make_app(folder, True), make_app(folder, False)
        try:
            timings = measure_interleaved(
                [("with audit", poster(with_audit)), ("without audit", poster(without))],
                warmup=args.warmup, reps=args.reps)
            for timing, status in timings:
                if status != 200:
                    raise SystemExit(f"{timing.label}: the last request answered {status}")
            trail = with_audit.registry.getUtility(IAuditTrail)
            trail.flush()
            stored = trail.store.execute("SELECT count(*) FROM audit")[0][0]
            if stored != args.warmup + args.reps:
                raise SystemExit(f"{stored} audit records for {args.warmup + args.reps} "
                                 "requests")
        finally:
            virtdancer.close(with_audit)
            virtdancer.close(without)
    (audited, _), (bare, _) = timings
    ratio = audited.median / bare.median
    return {"reps": args.reps, "with_audit": audited.as_dict(), "without_audit": bare.as_dict(),
            "records_stored": stored, "ratio_median": ratio, "goal": GOAL, "met": ratio <= GOAL}


def report(figures):
    for label in ("with_audit", "without_audit"):
        timing = figures[label]
        print(f"{label:15} median {fmt_ms(timing['median_s']):>9}  p90 "
              f"{fmt_ms(timing['p90_s']):>9}  min {fmt_ms(timing['min_s']):>9}")
    print(f"ratio of medians: {figures['ratio_median']:.3f} (goal <= {GOAL}): "
          f"{'met' if figures['met'] else 'MISSED'}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--no-check", action="store_true", help="exit 0 even if missed")
    args = parser.parse_args()
    log(f"audit_cost: {args.reps} POST /vm/<uuid>/action of each, interleaved")
    figures = run(args)
    report(figures)
    if args.json:
        write_json(figures, args.json)
    return 0 if figures["met"] or args.no_check else 1


if __name__ == "__main__":
    sys.exit(main())
