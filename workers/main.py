"""Entry module for `dramatiq workers.main`: a separate worker process.

The dramatiq CLI imports this module and then runs the actors declared on the
global broker, so this is the one module that configures at import: it is a
process entry point, never imported by the app.
"""

from __future__ import annotations

import os

from imageuploader.container import build_worker
from imageuploader.logs import configure_logging
from imageuploader.settings import Settings

settings = Settings.from_env(os.environ)
configure_logging(settings.log_level)
broker = build_worker(settings).broker
