"""A Celery app for the worker of the test that kills a worker mid-render: the usual app,
whose first PDF render hangs (after writing the file named by SLOW_RENDER_MARKER) until
the test kills the worker. Later renders, in a new worker, run as usual.

Run as `celery -A tests.reviews.slow_render worker`."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from celery.signals import worker_ready

from config.celery import app

__all__ = ["app"]


@worker_ready.connect
def _slow_first_render(**kwargs: Any) -> None:
    from actions import pdf

    render = pdf.render_pdf
    marker = Path(os.environ["SLOW_RENDER_MARKER"])

    def slow_once(html: str) -> pdf.RenderedPdf:
        if not marker.exists():
            marker.write_text("rendering")
            time.sleep(600)
        return render(html)

    pdf.render_pdf = slow_once
