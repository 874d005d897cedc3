"""Per-stage pipeline speed on ~55 KB news pages, reusing bench/speed.py (same pages, same stages), and the
naive stack of the issue on the same pages so the targets can be scaled to this machine."""

from __future__ import annotations

import os
from dataclasses import dataclass

from pages import typical_pages
from speed import baseline_times, percentiles, stage_times

NAIVE_ON_ISSUE_MACHINE_MS = 96.0  # the issue's measurement of the naive stack, per page
TARGET_PAGE_MS = 35.0  # whole pipeline per page, on the issue's machine
TARGET_ARTICLES_PER_S = 60.0  # batch on two cores, on the issue's machine


@dataclass(frozen=True)
class PageSpeed:
    pages: int
    page_kb: float
    stages: dict[str, tuple[float, float]]  # stage -> (median ms, p95 ms)
    baselines: dict[str, tuple[float, float]]
    load: tuple[float, float]

    @property
    def slowdown(self) -> float:
        """How much slower this machine ran the naive stack than the issue's machine did."""
        return self.baselines["naive stack"][0] / NAIVE_ON_ISSUE_MACHINE_MS


def page_speed(count: int) -> PageSpeed:
    pages = list(typical_pages(count))
    load_before = os.getloadavg()[0]
    stages = {name: percentiles(ms) for name, ms in stage_times(pages).items()}
    baselines = {name: percentiles(ms) for name, ms in baseline_times(pages).items()}
    size = sorted(len(html) for _, html, _ in pages)[len(pages) // 2] / 1000
    return PageSpeed(len(pages), size, stages, baselines, (load_before, os.getloadavg()[0]))
