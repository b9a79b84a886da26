"""Task records in the state store: one row per task, written as the task moves on.

A record is what `GET /tasks/<id>` answers; it outlives the process that ran the task, so a
restart can tell what became of a task that was running when the process stopped.
"""

import json
import time
from dataclasses import asdict, dataclass

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
STATES = (QUEUED, RUNNING, DONE, FAILED, CANCELLED)
UNFINISHED = (QUEUED, RUNNING)

COLUMNS = ("id", "type", "host", "vm_uuid", "vm_name", "user", "state", "progress", "created",
           "started", "finished", "result", "error", "changes_vm")
DAY = 86400.0


@dataclass
class TaskRecord:
    id: str
    type: str
    host: str
    vm_uuid: str = None
    vm_name: str = None
    user: str = None
    state: str = QUEUED
    progress: float = None
    created: float = 0.0
    started: float = None
    finished: float = None
    result: object = None
    error: str = None
    changes_vm: bool = False

    @property
    def finished_yet(self):
        return self.state not in UNFINISHED

    def answer(self):
        """The task's body, as the API answers it."""
        vm = None if self.vm_uuid is None else {"uuid": self.vm_uuid, "name": self.vm_name}
        return {"id": self.id, "type": self.type, "host": self.host, "vm": vm,
                "user": self.user, "state": self.state, "progress": self.progress,
                "created": self.created, "started": self.started, "finished": self.finished,
                "result": self.result, "error": self.error}


def _row(record):
    values = asdict(record)
    values["result"] = None if record.result is None else json.dumps(record.result)
    values["changes_vm"] = int(record.changes_vm)
    return tuple(values[column] for column in COLUMNS)


def _record(row):
    values = dict(zip(COLUMNS, row, strict=True))
    values["result"] = None if values["result"] is None else json.loads(values["result"])
    values["changes_vm"] = bool(values["changes_vm"])
    return TaskRecord(**values)


class TaskRecords:
    """The tasks table of a `StateStore`."""

    def __init__(self, store):
        self.store = store

    def add(self, record):
        marks = ", ".join("?" * len(COLUMNS))
        self.store.execute(f"INSERT INTO tasks ({', '.join(COLUMNS)}) VALUES ({marks})",
                           _row(record))

    def save(self, record):
        """Write every field of `record` but its id."""
        names = [column for column in COLUMNS if column != "id"]
        values = _row(record)
        self.store.execute(f"UPDATE tasks SET {', '.join(f'{n} = ?' for n in names)} "
                           "WHERE id = ?", (*values[1:], record.id))

    def get(self, task_id):
        rows = self.store.execute(f"SELECT {', '.join(COLUMNS)} FROM tasks WHERE id = ?",
                                  (task_id,))
        return _record(rows[0]) if rows else None

    def find(self, user=None, host=None, vm=None, state=None, limit=None):
        """Records matching every filter given (`user` None: anyone's), the newest first."""
        where, parameters = [], []
        for column, wanted in (("user", user), ("host", host), ("vm_uuid", vm),
                               ("state", state)):
            if wanted is not None:
                where.append(f"{column} = ?")
                parameters.append(wanted)
        sql = f"SELECT {', '.join(COLUMNS)} FROM tasks"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created DESC, rowid DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_record(row) for row in self.store.execute(sql, parameters)]

    def unfinished(self):
        rows = self.store.execute(f"SELECT {', '.join(COLUMNS)} FROM tasks WHERE state IN "
                                  "(?, ?) ORDER BY created", UNFINISHED)
        return [_record(row) for row in rows]

    def forget_older(self, days, now=None):
        """Remove finished tasks that ended more than `days` days ago."""
        limit = (now or time.time()) - days * DAY
        self.store.execute("DELETE FROM tasks WHERE finished IS NOT NULL AND finished < ?",
                           (limit,))
