"""The dev sets (read-only, ../shared/bench/data, described in its SOURCES.md) and batch input rows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[3] / "shared" / "bench" / "data"
BBC_SAMPLE = 200  # every k-th article of the 2,225, so all five categories are in

Row = dict[str, Any]


@dataclass(frozen=True)
class DevSet:
    key: str  # "cnndm", "bbc", "conll", "timebank": also the prefix of its batch ids
    title: str
    rows: list[Row]

    def batch_id(self, row: Row) -> str:
        return f"{self.key}:{row['id']}"

    def batch_text(self, row: Row) -> str:
        """The text the product is given; date offsets in its output index this string."""
        if self.key == "bbc":
            return f"{row['title']}\n\n{row['text']}"
        return str(row["text"])

    def batch_rows(self) -> list[Row]:
        """Input lines for `briefbot batch` (contract in bot/batch.py)."""
        out = []
        for row in self.rows:
            line: Row = {"id": self.batch_id(row), "text": self.batch_text(row)}
            if self.key == "timebank":
                line["published"] = str(row["dct"])[:10]
            out.append(line)
        return out


def _load(name: str) -> list[Row]:
    with (DATA / name).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def _bbc_sample() -> list[Row]:
    rows = _load("summ_bbc_news_summary.jsonl")
    return rows[:: len(rows) // BBC_SAMPLE][:BBC_SAMPLE]


def load_sets(limit: int | None = None) -> dict[str, DevSet]:
    """Every dev set, each cut to its first `limit` rows if given."""
    sets = [
        DevSet("cnndm", "CNN/DailyMail dev (main summary set)", _load("summ_cnndm_dev.jsonl")),
        DevSet("bbc", "BBC News Summary (secondary, every k-th of 2,225)", _bbc_sample()),
        DevSet("conll", "CoNLL-2003 dev (actors)", _load("ner_conll2003_dev.jsonl")),
        DevSet(
            "timebank",
            "TimeBank + AQUAINT, TempEval-3 TBAQ-cleaned (dates)",
            _load("timex_tbaq_timebank_aquaint.jsonl"),
        ),
    ]
    return {s.key: DevSet(s.key, s.title, s.rows[:limit]) for s in sets}
