"""Per-stage pipeline speed on ~55 KB news pages, reusing bench/speed.py (same pages, same stages), and a
second pass of the whole pipeline timed both ways: on this shared machine wall clock counts other people's
load, process CPU time much less."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import date

from pages import typical_pages
from speed import percentiles, stage_times

from bot.briefing.pipeline import brief_source
from bot.config import Settings
from bot.models import Source

SLOWDOWN = 3.0  # this machine kind against the (bench/README.md: sum(range(10**8)), naive stack)
TARGET_PAGE_MS = 35.0  # whole pipeline per page, on the machine
TARGET_ARTICLES_PER_S = 60.0  # batch on two cores, on the machine


@dataclass(frozen=True)
class PageSpeed:
    pages: int
    page_kb: float
    stages: dict[str, tuple[float, float]]  # stage -> (median ms, p95 ms), wall clock
    second_pass: dict[str, tuple[float, float]]  # "wall clock" / "process CPU time" -> (median ms, p95 ms)
    load: tuple[float, float]  # 1-minute load average before and after


def _second_pass(pages: list[tuple[str, str, str]]) -> dict[str, tuple[float, float]]:
    settings = Settings()
    wall, cpu = [], []
    for _, html, published in pages:
        source = Source(html=html, published=date.fromisoformat(published))
        started, started_cpu = time.perf_counter(), time.process_time()
        brief_source(source, settings)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return {"wall clock": percentiles(wall), "process CPU time": percentiles(cpu)}


def page_speed(count: int) -> PageSpeed:
    pages = list(typical_pages(count))
    load_before = os.getloadavg()[0]
    stages = {name: percentiles(ms) for name, ms in stage_times(pages).items()}
    second = _second_pass(pages)
    size = sorted(len(html) for _, html, _ in pages)[len(pages) // 2] / 1000
    return PageSpeed(len(pages), size, stages, second, (load_before, os.getloadavg()[0]))
