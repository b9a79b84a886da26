"""VirtDancer's state that must survive a restart, in one SQLite file (`virtdancer.state_file`).

One connection per process, shared by waitress's threads under a lock: every statement is
short (a row by its key), and SQLite serializes writers anyway. Without the setting the state
lives in memory, which suits development and tests and is gone when the process ends.

The schema grows by migrations: `MIGRATIONS[n]` brings a file from version n to n + 1 (SQLite's
`user_version`), each in a transaction of its own, so a file written by an older VirtDancer is
brought up to date when it is opened, and one written by a newer VirtDancer is refused.
"""

import os
import sqlite3
import threading
from contextlib import contextmanager

from pyramid.exceptions import ConfigurationError

from .interfaces import IStateStore
from .settings import value

IN_MEMORY = ":memory:"

# Append only: a migration that shipped is never edited, a change is a new one.
MIGRATIONS = (
    # 1: API tokens. Only a SHA-256 of each token's secret is kept; `last_used` is written at
    # most once a minute per token (see security/tokens.py).
    """
    CREATE TABLE tokens (
        id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        name TEXT NOT NULL,
        scope TEXT NOT NULL,
        secret_sha256 BLOB NOT NULL,
        created REAL NOT NULL,
        last_used REAL,
        expires REAL,
        UNIQUE (owner, name)
    );
    """,
    # 2: the audit trail (virtdancer/audit): one row per request that changed something, per
    # login and per users-file reload. Never a password, token, cookie or body: only these
    # fields. Pruned by `time` (virtdancer.audit.retention_days).
    """
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        time REAL NOT NULL,
        user TEXT,
        client_addr TEXT,
        method TEXT,
        route TEXT,
        action TEXT NOT NULL,
        host TEXT,
        vm_uuid TEXT,
        vm_name TEXT,
        status INTEGER,
        error TEXT,
        task TEXT
    );
    CREATE INDEX audit_by_time ON audit (time);
    """,
    # 3: tasks (virtdancer/tasks): long operations, kept `virtdancer.tasks.keep_days` days.
    # `result` is JSON; `changes_vm` marks a task that holds its VM against another such task.
    """
    CREATE TABLE tasks (
        id TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        host TEXT NOT NULL,
        vm_uuid TEXT,
        vm_name TEXT,
        user TEXT,
        state TEXT NOT NULL,
        progress REAL,
        created REAL NOT NULL,
        started REAL,
        finished REAL,
        result TEXT,
        error TEXT,
        changes_vm INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX tasks_by_created ON tasks (created);
    CREATE INDEX tasks_by_state ON tasks (state);
    """,
)

# How long a statement waits for another process's write to the file to end.
BUSY_WAIT = 10.0
# As long for an append (an audit record), which had better be dropped than hold up a request.
APPEND_WAIT = 2.0


class StateFileError(ConfigurationError):
    """The state file cannot be opened or is newer than this VirtDancer; the message says why."""


class StateStore:
    """The SQLite database of `path` (or in memory), migrated to the latest schema."""

    def __init__(self, path=IN_MEMORY):
        self.path = path
        self._lock = threading.Lock()
        try:
            if path != IN_MEMORY:
                directory = os.path.dirname(os.path.abspath(path))
                if not os.path.isdir(directory):
                    raise StateFileError(f"virtdancer.state_file = {path}: the folder "
                                         f"{directory} does not exist (create it, writable by "
                                         "the user VirtDancer runs as)")
            # Autocommit mode: `transaction()` says where a transaction begins and ends.
            self._connection = sqlite3.connect(path, check_same_thread=False,
                                               isolation_level=None, timeout=BUSY_WAIT)
            if path != IN_MEMORY:
                self._connection.execute("PRAGMA journal_mode = WAL")
                os.chmod(path, 0o600)    # token hashes are nobody else's business
            self._migrate()
            self._appender, self._append_lock = self._connection, self._lock
            if path != IN_MEMORY:
                self._appender = sqlite3.connect(path, check_same_thread=False,
                                                 isolation_level=None, timeout=APPEND_WAIT)
                self._appender.execute("PRAGMA synchronous = NORMAL")
                self._append_lock = threading.Lock()
        except sqlite3.Error as error:
            raise StateFileError(f"virtdancer.state_file = {path}: {error}") from None

    def _migrate(self):
        version = self._connection.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise StateFileError(
                f"virtdancer.state_file = {self.path} was written by a newer VirtDancer "
                f"(schema {version}; this one knows up to {len(MIGRATIONS)})")
        for number in range(version, len(MIGRATIONS)):
            with self._lock:
                try:
                    self._connection.executescript(
                        "BEGIN IMMEDIATE;" + MIGRATIONS[number]
                        + f"PRAGMA user_version = {number + 1}; COMMIT;")
                except sqlite3.Error:
                    if self._connection.in_transaction:
                        self._connection.execute("ROLLBACK")
                    # Another process opening the same new file may have just done it.
                    done = self._connection.execute("PRAGMA user_version").fetchone()[0]
                    if done <= number:
                        raise

    @contextmanager
    def transaction(self):
        """The connection, for this thread alone, in a transaction committed when the block
        ends (rolled back if it raises)."""
        with self._lock:
            self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield self._connection
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            self._connection.execute("COMMIT")

    def execute(self, sql, parameters=(), wait=None):
        """Run one statement in a transaction of its own; the rows it answers, as a list.

        `wait`: at most so many seconds for another process's write to end (sqlite3's
        OperationalError then), rather than the connection's usual 10 s; for a write that may
        as well not happen, which must not hold up every other request meanwhile.
        """
        with self._lock:
            if wait is None:
                return self._connection.execute(sql, parameters).fetchall()
            self._connection.execute(f"PRAGMA busy_timeout = {int(wait * 1000)}")
            try:
                return self._connection.execute(sql, parameters).fetchall()
            finally:
                self._connection.execute(f"PRAGMA busy_timeout = {int(BUSY_WAIT * 1000)}")

    def append_rows(self, sql, rows):
        """Run one write per row of `rows`, all in one transaction, that a crash of VirtDancer
        may not lose but a power cut may (audit records); answer the ids of the rows inserted.

        A file's appends go through a connection of their own in `synchronous = NORMAL`: in WAL
        mode that commits without waiting for the disk (the next durable commit or checkpoint
        takes the rows along), so appends cost microseconds, not a flush, while a token's
        revocation on the main connection still waits for the disk.
        """
        with self._append_lock:
            connection = self._appender
            connection.execute("BEGIN IMMEDIATE")
            try:
                ids = [connection.execute(sql, row).lastrowid for row in rows]
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
            return ids

    def close(self):
        with self._append_lock:
            self._appender.close()
        with self._lock:
            self._connection.close()


def store_from_settings(settings):
    return StateStore(value(settings, "virtdancer.state_file") or IN_MEMORY)


def includeme(config):
    """Register the store once, however many packages of VirtDancer's include it."""
    if config.registry.queryUtility(IStateStore) is None:
        config.registry.registerUtility(store_from_settings(config.get_settings()),
                                        IStateStore)
