"""Loaded by the benchmark's web server (on its PYTHONPATH), whichever code it serves: counts
every database query the process runs and writes the count, every 0.2 s, to a file named by
its process id in BENCH_PROBE_DIR. Nothing of the app is changed."""

import os
import threading
import time
from pathlib import Path

_directory = os.environ.get("BENCH_PROBE_DIR")
_count = [0]
_lock = threading.Lock()


def _counting(execute, sql, params, many, context):
    with _lock:
        _count[0] += 1
    return execute(sql, params, many, context)


def _attach(sender, connection, **kwargs):
    if _counting not in connection.execute_wrappers:
        connection.execute_wrappers.append(_counting)


def _write():
    path = Path(_directory) / str(os.getpid())
    spare = path.with_suffix(".tmp")
    while True:
        spare.write_text(str(_count[0]))
        spare.replace(path)  # whole, never read half-written
        time.sleep(0.2)


def _start():
    _count[0] = 0
    threading.Thread(target=_write, daemon=True).start()


if _directory:
    from django.db.backends.signals import connection_created

    connection_created.connect(_attach, weak=False)
    _start()
    os.register_at_fork(after_in_child=_start)  # gunicorn's workers
