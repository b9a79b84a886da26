"""The task runner: operations that outlast a request, run on a bounded pool of threads per host.

A view submits a piece of work and answers `202` at once with the task's record; the work runs
on one of `virtdancer.tasks.per_host` threads of its host (more wait, queued), and the record
follows it: running, its progress, then done (with a result), failed (with the error) or
cancelled. A task that changes a VM holds that VM until it ends: a second such task on the same
VM is refused (`TaskConflict`), naming the first.

The runner knows nothing of HTTP nor of libvirt: the work is a callable given a `TaskContext`,
through which it reports progress, names a source of progress to poll (libvirt's job info) and
says how to abort it. Every change of a record is saved, then given to `publish` (the event
stream's "task" events).
"""

import logging
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from ..hypervisor.errors import HypervisorError, Refused
from .records import CANCELLED, DONE, FAILED, RUNNING, TaskRecord

log = logging.getLogger(__name__)

STOPPED = "VirtDancer stopped during the task"
# A change of progress smaller than this is not worth a write and an event.
PROGRESS_STEP = 0.01


class TaskConflict(Refused):
    """The VM already has a task that changes it; `task_id` names that task."""

    def __init__(self, message, task_id):
        super().__init__(message)
        self.task_id = task_id


class NotCancellable(Refused):
    """The task has ended already, or what it is doing cannot be stopped half-way."""


class TaskCancelled(Exception):
    """Raised inside a task's work once its cancellation was asked for."""


class TaskContext:
    """What a task's work is given: its record, and ways to report and to be stopped."""

    def __init__(self, runner, record, work):
        self._runner = runner
        self.record = record
        self.work = work
        self.cancelled = threading.Event()
        self.progress_source = None
        self.canceller = None

    def progress(self, fraction):
        """Report how far the work is (0..1), or None for "cannot tell"."""
        self._runner._set_progress(self, fraction)

    def watch(self, source):
        """Poll `source()` (a fraction or None) for progress while the work runs."""
        self.progress_source = source
        self._runner._watch_progress()

    def cancel_with(self, canceller):
        """Make the task cancellable: `canceller()` stops what the work waits for (None: no
        longer cancellable)."""
        self.canceller = canceller

    def check_cancelled(self):
        if self.cancelled.is_set():
            raise TaskCancelled()

    def wait(self, seconds):
        """Sleep `seconds`, or less when the task is cancelled (then `TaskCancelled`)."""
        if self.cancelled.wait(seconds):
            raise TaskCancelled()


class TaskRunner:
    """Runs and records the tasks of every host."""

    def __init__(self, records, per_host=4, publish=None, poll_interval=0.5):
        self.records = records
        self.per_host = per_host
        self.publish = publish
        self.poll_interval = poll_interval
        self._lock = threading.RLock()
        self._pools = {}            # host → ThreadPoolExecutor
        self._running = {}          # task id → (TaskContext, Future)
        self._holders = {}          # (host, VM UUID) or a held key → id of the task
        self._extra_holds = {}      # task id → the keys of `holds` it has
        self._closing = threading.Event()
        self._poller = None

    # -- what the views ask ----------------------------------------------------------------

    def submit(self, type, host, work, vm=None, user=None, changes_vm=True, canceller=None,
               holds=()):
        """Queue `work(context)` as a task of `host` on `vm` (`(uuid, name)` or None); answer
        its record. `TaskConflict` if the VM has another task that changes it.

        `canceller`: how to stop the work from its start on (the work may set it later, with
        `context.cancel_with`); without one, a running task cannot be cancelled.
        `holds`: `(key, what)` of other things the task changes (a volume), each held as a
        VM is: a second task holding the same key is refused, naming `what`.
        """
        record = TaskRecord(id=secrets.token_hex(8), type=type, host=host, user=user,
                            vm_uuid=vm[0] if vm else None, vm_name=vm[1] if vm else None,
                            created=time.time(), changes_vm=bool(vm and changes_vm))
        context = TaskContext(self, record, work)
        context.canceller = canceller
        with self._lock:
            if self._closing.is_set():
                raise Refused("VirtDancer is stopping: no new task is started")
            key = (host, record.vm_uuid)
            if record.changes_vm:
                holder = self._holders.get(key)
                if holder is not None:
                    raise TaskConflict(f"{record.vm_name} has a task that changes it already: "
                                       f"task {holder} ({self._running[holder][0].record.type})"
                                       "; wait for it to end or cancel it", holder)
                self._holders[key] = record.id
            for held, what in holds:
                holder = self._holders.get(held)
                if holder is not None:
                    self._release(record)
                    raise TaskConflict(f"{what} has a task that changes it already: task "
                                       f"{holder} ({self._running[holder][0].record.type}); "
                                       "wait for it to end or cancel it", holder)
            for held, _ in holds:
                self._holders[held] = record.id
            self._extra_holds[record.id] = [held for held, _ in holds]
            try:
                self.records.add(record)
                future = self._pool(host).submit(self._run, context)
            except BaseException:
                self._release(record)
                raise
            self._running[record.id] = (context, future)
        self._tell(record)
        return record

    def get(self, task_id):
        return self.records.get(task_id)

    def find(self, **filters):
        return self.records.find(**filters)

    def cancel(self, task_id):
        """Cancel the task: at once if it is queued, through its canceller if it runs;
        `NotCancellable` otherwise. Answers its record as it is now."""
        with self._lock:
            entry = self._running.get(task_id)
            if entry is None:
                record = self.records.get(task_id)
                state = record.state if record is not None else "unknown"
                raise NotCancellable(f"task {task_id} has ended ({state}): there is nothing "
                                     "to cancel")
            context, future = entry
            if future.cancel():         # never started: it ends here
                self._finish(context, CANCELLED, error="cancelled before it started")
                return context.record
            if context.canceller is None:
                raise NotCancellable(f"task {task_id} ({context.record.type}) cannot be "
                                     "cancelled now: what it does cannot be stopped half-way")
            # Set first: the work may fail at once when its job is aborted, and is then
            # cancelled, not failed.
            context.cancelled.set()
            canceller = context.canceller
        try:
            canceller()
        except BaseException:
            context.cancelled.clear()
            raise
        return context.record

    # -- start and stop --------------------------------------------------------------------

    def recover(self, describe_vm, keep_days=30):
        """On start-up: fail the tasks a stopped process left unfinished, saying what
        `describe_vm(host, uuid)` says of their VM now; forget records older than `keep_days`."""
        for record in self.records.unfinished():
            what = f"{STOPPED}"
            if record.vm_uuid is not None:
                what += f"; {describe_vm(record.host, record.vm_uuid)}"
            record.state, record.error = FAILED, what
            record.finished = time.time()
            self.records.save(record)
        self.records.forget_older(keep_days)

    def close(self):
        """Stop: cancel what waits and what can be cancelled, wait for the rest to end."""
        with self._lock:
            self._closing.set()
            pools, self._pools = list(self._pools.values()), {}
            running = list(self._running.values())
        for context, future in running:
            if future.cancel():
                self._finish(context, FAILED, error=STOPPED)
                continue
            context.cancelled.set()
            if context.canceller is not None:
                try:
                    context.canceller()
                except Exception as error:   # the host may be gone: the task ends anyway
                    log.info("cancelling task %s while stopping: %s", context.record.id, error)
        for pool in pools:
            pool.shutdown(wait=True)
        if self._poller is not None:
            self._poller.join(timeout=5)

    # -- inside ----------------------------------------------------------------------------

    def _pool(self, host):
        pool = self._pools.get(host)
        if pool is None:
            pool = self._pools[host] = ThreadPoolExecutor(
                max_workers=self.per_host, thread_name_prefix=f"virtdancer-task-{host}")
        return pool

    def _run(self, context):
        record = context.record
        with self._lock:
            record.state, record.started = RUNNING, time.time()
            self.records.save(record)
        self._tell(record)
        try:
            context.check_cancelled()
            result = context.work(context)
        except TaskCancelled:
            self._ended_by_cancel(context)
        except HypervisorError as error:
            if context.cancelled.is_set():
                self._ended_by_cancel(context, error.message)
            else:
                self._finish(context, FAILED, error=error.message)
        except Exception as error:
            log.exception("task %s (%s) failed", record.id, record.type)
            self._finish(context, FAILED, error=f"internal error: {error}")
        else:
            self._finish(context, DONE, result=result, progress=1.0)

    def _ended_by_cancel(self, context, detail=None):
        if self._closing.is_set():
            self._finish(context, FAILED, error=STOPPED)
        else:
            self._finish(context, CANCELLED, error="cancelled" + (f" ({detail})" if detail
                                                                   else ""))

    def _finish(self, context, state, result=None, error=None, progress=None):
        record = context.record
        with self._lock:
            record.state, record.result, record.error = state, result, error
            record.finished = time.time()
            if progress is not None:
                record.progress = progress
            self.records.save(record)
            self._running.pop(record.id, None)
            self._release(record)
        self._tell(record)

    def _release(self, record):
        for key in [(record.host, record.vm_uuid), *self._extra_holds.pop(record.id, ())]:
            if self._holders.get(key) == record.id:
                del self._holders[key]

    def holder(self, key):
        """The id of the running task that holds `key`, or None."""
        with self._lock:
            return self._holders.get(key)

    def _set_progress(self, context, fraction):
        record = context.record
        if fraction is not None:
            fraction = min(1.0, max(0.0, float(fraction)))
        with self._lock:
            if record.state != RUNNING or fraction == record.progress or (
                    fraction is not None and record.progress is not None
                    and abs(fraction - record.progress) < PROGRESS_STEP and fraction < 1.0):
                return
            record.progress = fraction
            self.records.save(record)
        self._tell(record)

    def _watch_progress(self):
        with self._lock:
            if self._poller is None and not self._closing.is_set():
                self._poller = threading.Thread(target=self._poll, daemon=True,
                                                name="virtdancer-task-progress")
                self._poller.start()

    def _poll(self):
        while not self._closing.wait(self.poll_interval):
            with self._lock:
                watched = [context for context, _ in self._running.values()
                           if context.progress_source is not None
                           and context.record.state == RUNNING]
            for context in watched:
                try:
                    fraction = context.progress_source()
                except Exception as error:     # the job ended meanwhile, or the host went
                    log.debug("progress of task %s: %s", context.record.id, error)
                    continue
                if fraction is not None:
                    self._set_progress(context, fraction)

    def _tell(self, record):
        if self.publish is None:
            return
        try:
            self.publish(record)
        except Exception:
            log.exception("publishing task %s", record.id)
