"""The audit trail: who did what, kept in the state store and logged as one JSON line each.

A record is a dict of the fields in `FIELDS`, nothing else: never a password, a token, a cookie
or a request's body. `AuditTrail.write` stores it (pruning records older than the retention
now and then), logs it on the logger `virtdancer.audit` and hands it to its listeners (the
event hub); `AuditTrail.search` answers the records a reader may see, newest first.
"""

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
# The longest text a field keeps (a libvirt error message may be long).
MAX_TEXT = 500

_INSERT = (f"INSERT INTO audit ({', '.join(FIELDS)}) "
           f"VALUES ({', '.join('?' for _ in FIELDS)})")


def _kept(value):
    if isinstance(value, str) and len(value) > MAX_TEXT:
        return value[:MAX_TEXT] + "…"
    return value


class AuditTrail:
    """The audit records of the state store `store`, kept `retention` seconds."""

    def __init__(self, store, retention, clock=time.time, monotonic=time.monotonic):
        self.store = store
        self.retention = retention
        self.clock = clock
        self.monotonic = monotonic
        self.listeners = []        # callables given each record once it is written
        self._next_prune = 0.0
        self._prune_lock = threading.Lock()

    def write(self, **fields):
        """Keep, log and publish one record; a store that cannot take it only costs a warning.

        Unknown fields are an error of VirtDancer's (nothing else may slip into a record).
        """
        unknown = set(fields) - set(FIELDS)
        if unknown:
            raise TypeError(f"not audit fields: {', '.join(sorted(unknown))}")
        record = {name: _kept(fields.get(name)) for name in FIELDS}
        if record["time"] is None:
            record["time"] = self.clock()
        try:
            rows = self.store.append(_INSERT + " RETURNING id",
                                     tuple(record[name] for name in FIELDS))
            record = {"id": rows[0][0], **record}
        except sqlite3.Error as error:
            problems.warning("audit record not stored (%s): %s", error, record["action"])
            record = {"id": None, **record}
        log.info("%s", json.dumps(record, separators=(",", ":"), ensure_ascii=False))
        self._prune_now_and_then()
        for listener in list(self.listeners):
            try:
                listener(record)
            except Exception:
                problems.exception("an audit listener failed")
        return record

    def _prune_now_and_then(self):
        now = self.monotonic()
        if now < self._next_prune or not self._prune_lock.acquire(blocking=False):
            return
        try:
            self._next_prune = now + PRUNE_INTERVAL
            self.prune()
        finally:
            self._prune_lock.release()

    def prune(self):
        """Delete the records older than the retention."""
        try:
            self.store.append("DELETE FROM audit WHERE time < ?",
                              (self.clock() - self.retention,))
        except sqlite3.Error as error:
            problems.warning("old audit records not pruned: %s", error)

    def search(self, *, visible=None, user=None, host=None, vm=None, action=None, since=None,
               until=None, before=None, limit=100):
        """The records matching every filter given, newest first, at most `limit`.

        `visible`: (SQL condition, parameters) that limits the records to a reader's (see
        `visibility`); `vm` matches a UUID or a name; `before`: only records of a smaller id
        (the paging cursor).
        """
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
