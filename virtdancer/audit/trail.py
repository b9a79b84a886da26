"""The audit trail: who did what, kept in the state store and logged as one JSON line each.

A record is a dict of the fields in `FIELDS`, nothing else: never a password, a token, a cookie
or a request's body. `AuditTrail.write` queues it, and the trail's thread stores it (pruning
records older than the retention now and then), logs it on the logger `virtdancer.audit` and
hands it to its listeners (the event hub); `AuditTrail.write_now` does all that before it
returns. `AuditTrail.search` answers the records a reader may see, newest first.
"""

import collections
import json
import logging
import sqlite3
import threading
import time

log = logging.getLogger("virtdancer.audit")
problems = logging.getLogger(__name__)

# A record's fields, in the order of the table's columns (state.py, migration 2).
FIELDS = ("time", "user", "client_addr", "method", "route", "action", "host", "vm_uuid",
          "vm_name", "status", "error", "task")
# How often old records are deleted: a DELETE by the indexed time, at most once this often.
PRUNE_INTERVAL = 3600.0
# How long the writer lets records gather once one is queued: what a crash of VirtDancer may
# lose at most (a record is queued after its response is ready).
BATCH_WAIT = 0.05
# The longest text a field keeps (a libvirt error message may be long).
MAX_TEXT = 500

FIELDS_SET = frozenset(FIELDS)
_INSERT = (f"INSERT INTO audit ({', '.join(FIELDS)}) "
           f"VALUES ({', '.join('?' for _ in FIELDS)})")


def _kept(value):
    if isinstance(value, str) and len(value) > MAX_TEXT:
        return value[:MAX_TEXT] + "…"
    return value


class AuditTrail:
    """The audit records of the state store `store`, kept `retention` seconds.

    A request only queues its record: a thread of the trail's stores the queued records (in
    one transaction however many wait), then logs and publishes each. It lets records gather
    for `BATCH_WAIT` once one is queued, so a record is on disk within about 50 ms; reading
    the trail (`search`) waits for what is queued first. The thread starts with the first
    record and stops at `close`, having written every record queued. `write_now` stores a
    record (and any queued before it) in the caller's thread instead.
    """

    def __init__(self, store, retention, clock=time.time, monotonic=time.monotonic):
        self.store = store
        self.retention = retention
        self.clock = clock
        self.monotonic = monotonic
        self.listeners = []        # callables given each record once it is written
        self._next_prune = 0.0
        self._queue = collections.deque()
        self._changed = threading.Condition()
        self._keeping = threading.Lock()     # held by whoever stores queued records
        self._queued = self._written = 0
        self._closed = False
        self._hurry = False        # a reader waits: write what is queued now
        self._thread = None

    def write(self, **fields):
        """Queue one record to be kept, logged and published.

        Unknown fields are an error of VirtDancer's (nothing else may slip into a record).
        """
        record = self._record(fields)
        with self._changed:
            if not self._enqueue(record):
                return
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="virtdancer-audit")
                self._thread.start()
            if len(self._queue) == 1:
                # Only the first record wakes the writer: a thread switch costs a request more
                # than its record does.
                self._changed.notify_all()

    def write_now(self, **fields):
        """Keep, log and publish one record, and those queued before it, before returning.

        For a request whose answer must not outlive its record in a crash of VirtDancer (one
        that starts or cancels a task, itself kept at once). In the caller's thread: waking
        the trail's would cost a thread switch, and the GIL behind whatever else runs.
        """
        record = self._record(fields)
        with self._keeping:
            with self._changed:
                if not self._enqueue(record):
                    return
            self._write_queued()

    def _enqueue(self, record):
        """Queue `record` (the caller holds `_changed`); False, and only logged, once closed."""
        if self._closed:
            self._log_only(record)
            return False
        self._queue.append(record)
        self._queued += 1
        return True

    def _record(self, fields):
        unknown = fields.keys() - FIELDS_SET
        if unknown:
            raise TypeError(f"not audit fields: {', '.join(sorted(unknown))}")
        record = {name: _kept(fields.get(name)) for name in FIELDS}
        if record["time"] is None:
            record["time"] = self.clock()
        return record

    def _log_only(self, record):
        problems.warning("audit record after the trail closed, logged only: %s",
                         record["action"])
        self._log({"id": None, **record})

    def flush(self, timeout=10.0):
        """Wait until every record queued so far is written."""
        with self._changed:
            target = self._queued
            self._hurry = True
            self._changed.notify_all()
            self._changed.wait_for(lambda: self._written >= target or self._thread is None,
                                   timeout)

    def close(self):
        """Write what is queued and stop the thread; later records are only logged."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=10.0)

    def _run(self):
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._queue or self._closed)
                # The records of a busy moment together: one transaction and one wake-up for
                # them all, rather than a thread switch in the middle of every request.
                self._changed.wait_for(lambda: self._closed or self._hurry, BATCH_WAIT)
                self._hurry = False
                if not self._queue and self._closed:
                    self._thread = None
                    self._changed.notify_all()
                    return
            with self._keeping:
                self._write_queued()

    def _write_queued(self):
        """Keep what is queued now; the caller holds `_keeping`, so that records are stored
        in the order they were queued, whichever thread writes them."""
        with self._changed:
            batch = list(self._queue)
            self._queue.clear()
        if batch:
            try:
                self._keep(batch)
            except Exception:     # a bug of VirtDancer's must not stop the trail for good
                problems.exception("%d audit records lost", len(batch))
        with self._changed:
            self._written += len(batch)
            self._changed.notify_all()

    def _keep(self, batch):
        try:
            ids = self.store.append_rows(_INSERT, [tuple(record[name] for name in FIELDS)
                                                   for record in batch])
        except sqlite3.Error as error:
            problems.warning("%d audit records not stored (%s)", len(batch), error)
            ids = [None] * len(batch)
        for record_id, record in zip(ids, batch, strict=True):
            record = {"id": record_id, **record}
            self._log(record)
            for listener in list(self.listeners):
                try:
                    listener(record)
                except Exception:
                    problems.exception("an audit listener failed")
        self._prune_now_and_then()

    @staticmethod
    def _log(record):
        if log.isEnabledFor(logging.INFO):
            log.info("%s", json.dumps(record, separators=(",", ":"), ensure_ascii=False))

    def _prune_now_and_then(self):
        now = self.monotonic()
        if now >= self._next_prune:
            self._next_prune = now + PRUNE_INTERVAL
            self.prune()

    def prune(self):
        """Delete the records older than the retention."""
        try:
            self.store.append_rows("DELETE FROM audit WHERE time < ?",
                                   [(self.clock() - self.retention,)])
        except sqlite3.Error as error:
            problems.warning("old audit records not pruned: %s", error)

    def search(self, *, visible=None, user=None, host=None, vm=None, action=None, since=None,
               until=None, before=None, limit=100):
        """The records matching every filter given, newest first, at most `limit`.

        `visible`: (SQL condition, parameters) that limits the records to a reader's (see
        `visibility`); `vm` matches a UUID or a name; `before`: only records of a smaller id
        (the paging cursor).
        """
        self.flush()
        conditions, parameters = [], []
        if visible is not None:
            conditions.append(visible[0])
            parameters.extend(visible[1])
        for column, wanted in (("user", user), ("host", host), ("action", action)):
            if wanted is not None:
                conditions.append(f"{column} = ?")
                parameters.append(wanted)
        if vm is not None:
            conditions.append("(vm_uuid = ? OR vm_name = ?)")
            parameters.extend((vm.lower(), vm))
        if since is not None:
            conditions.append("time >= ?")
            parameters.append(since)
        if until is not None:
            conditions.append("time <= ?")
            parameters.append(until)
        if before is not None:
            conditions.append("id < ?")
            parameters.append(before)
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        rows = self.store.execute(
            f"SELECT id, {', '.join(FIELDS)} FROM audit {where} ORDER BY id DESC LIMIT ?",
            (*parameters, limit))
        return [dict(zip(("id", *FIELDS), row, strict=True)) for row in rows]


def visibility(identity):
    """(SQL condition, parameters) of the records `identity` may read, or None for all.

    A reader limited by users-file filters (hosts, or VMs by name) reads their own records and
    those of a VM they see on a host they see; records of a whole host only if they see every
    VM on it; never records of no host (another user's logins, users-file reloads) nor of a VM
    whose name is unknown (a request for a UUID that matched nothing).
    """
    all_vms = getattr(identity, "all_vms", True)
    hosts = getattr(identity, "hosts", None)
    if all_vms and hosts is None:
        return None
    parameters = []
    if all_vms:
        names = "1"
    else:
        choices = []
        exact = sorted(getattr(identity, "exact", ()))
        if exact:
            choices.append(f"vm_name IN ({', '.join('?' for _ in exact)})")
            parameters.extend(exact)
        for prefix in getattr(identity, "prefixes", ()):
            choices.append("substr(vm_name, 1, ?) = ?")
            parameters.extend((len(prefix), prefix))
        for suffix in getattr(identity, "suffixes", ()):
            choices.append("substr(vm_name, ?) = ?")
            parameters.extend((-len(suffix), suffix))
        names = " OR ".join(choices) or "0"
    vm_seen = f"(vm_name IS NOT NULL AND ({names}))"
    host_level = f"(vm_uuid IS NULL AND vm_name IS NULL AND {1 if all_vms else 0})"
    if hosts is None:
        host_seen = "host IS NOT NULL"
    else:
        listed = sorted(hosts)
        host_seen = f"host IN ({', '.join('?' for _ in listed) or 'NULL'})"
        parameters = [*listed, *parameters]
    condition = f"(user = ? OR ({host_seen} AND ({vm_seen} OR {host_level})))"
    return condition, [getattr(identity, "name", None), *parameters]
