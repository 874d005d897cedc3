"""Imported by the workers' forkserver (bot.workers: `set_forkserver_preload`), and loads the models as it is.

The forkserver then holds the models once and every worker forks from it with them already in memory,
sharing those pages instead of loading a copy each (~190 MB per worker before). gc.freeze() keeps each
worker's collector from writing to (and so un-sharing) every inherited object. Best effort: should loading
fail here, each worker loads the models itself (bot.worker_process.start_worker) and reports why.
"""

from __future__ import annotations

import gc
import logging

from bot.briefing import preload

try:
    preload.load()
except Exception:
    logging.getLogger(__name__).exception("preloading the briefing models in the forkserver failed")
gc.freeze()
