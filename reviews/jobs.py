"""Background jobs: a service creates the row a job works on, then queues the Celery task
that does the work by its name, once the transaction commits.

Services never import the tasks modules (the tasks import the services), so queueing goes
through here. The task is looked up in the Celery app's registry and sent with
`apply_async`, so on the embedded setup (eager mode) it still runs in this process."""

from __future__ import annotations

import logging

from celery import Task
from django.db import transaction

from config.celery import app

logger = logging.getLogger("pillarwise.jobs")


def task_named(name: str) -> Task:
    """The task registered as `name` ("actions.tasks.send_reminder"). The apps' tasks
    modules are imported the first time one is asked for; KeyError for an unknown name."""
    if name not in app.tasks:
        app.loader.import_default_modules()
    return app.tasks[name]


def queue_on_commit(task_name: str, *args: object) -> None:
    """Send the task with `args` once the current transaction commits (at once outside
    one). An unknown name fails here, inside the transaction, rather than after it.

    A broker (Redis) that cannot be reached fails nothing: the change has committed, the
    failure is logged, and the job's row stays as it is, pending, to be queued again."""
    task = task_named(task_name)

    def send() -> None:
        try:
            task.apply_async(args)
        except Exception as error:
            logger.warning("Could not queue %s%r: %s", task_name, args, error)

    transaction.on_commit(send)
