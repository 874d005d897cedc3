"""Summary quality: ROUGE-1/2/Lsum (F1, 95% bootstrap CI) and ms per article, ours against Lead-3 and sumy.

    .venv/bin/python bench/quality_summary.py              # writes bench/results/summary.md
    .venv/bin/python bench/quality_summary.py --methods ours,lead-3 --no-write

Main set: CNN/DailyMail dev (one paragraph per text, abstractive highlights). Secondary: a fixed sample of
BBC News Summary (blank-line paragraphs; its references are extractive, ~45% of the sentences, so every
3-sentence summary has a low recall there: compare methods, not absolute numbers).
Stock sumy methods get our tokenizer, the Snowball stemmer and sumy's English stop words.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from rouge_score import rouge_scorer
from sumy.nlp.stemmers import Stemmer
from sumy.parsers.plaintext import PlaintextParser
from sumy.summarizers.edmundson import EdmundsonSummarizer
from sumy.summarizers.kl import KLSummarizer
from sumy.summarizers.lex_rank import LexRankSummarizer
from sumy.summarizers.lsa import LsaSummarizer
from sumy.summarizers.luhn import LuhnSummarizer
from sumy.summarizers.reduction import ReductionSummarizer
from sumy.summarizers.sum_basic import SumBasicSummarizer
from sumy.summarizers.text_rank import TextRankSummarizer
from sumy.utils import get_stop_words

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.boilerplate import is_boilerplate, strip_dateline  # noqa: E402
from bot.sentences import SumyTokenizer, split_sentences  # noqa: E402
from bot.summarize import content_terms, summarize  # noqa: E402

DATA = Path("/work/shared/bench/data")
RESULTS = ROOT / "bench" / "results" / "summary.md"
COUNT = 3
BBC_SAMPLE = 200  # every k-th article of the 2,225, so all five categories are in
BOOTSTRAP = 1000
METRICS = ("rouge1", "rouge2", "rougeLsum")
EDMUNDSON_BONUS = 10  # the article's most frequent content words count as bonus words (no titles in CNN/DM)
EDMUNDSON_STIGMA = ("hardly", "impossible", "perhaps", "maybe", "reportedly", "allegedly", "rumour", "rumor")

NOTES = """\
## How "ours" was chosen (few knobs; what each was tuned on)

- Centrality comes from a stock sumy scorer, chosen by a sweep on **CNN/DM dev** (BBC shown beside it):
  ROUGE-1 / ROUGE-2 on CNN/DM and ROUGE-1 on BBC, blended with position at weight w:

  | scorer | w=0.1 | w=0.2 | w=0.3 | w=0.5 |
  |---|---|---|---|---|
  | sumy Reduction | 36.4 / 14.9, 45.8 | **36.4 / 15.1, 47.8** | 35.8 / 14.9, 50.5 | 34.8 / 14.0, 55.5 |
  | sumy TextRank | 36.5 / 15.0, 45.7 | 36.0 / 14.6, 46.0 | 35.9 / 14.9, 48.1 | 34.5 / 13.8, 52.9 |

  (A numpy LexRank-style cosine at 0.2 gave 36.5 / 15.0, 47.6: the same, but not sumy.) BBC rewards
  centrality alone because its references look machine-made (TextRank-like, see SOURCES.md), so BBC did not
  pick the weight; 0.2 is the largest weight that costs nothing on CNN/DM, and Reduction beats TextRank on
  BBC at that weight. `CENTRALITY_WEIGHT = 0.2` with Reduction is shipped.
- `MIN_WORDS = 6`: compared with no minimum on both sets, +0.2 to +0.5 ROUGE-1 on each.
- Questions are never summary lines (teasers: "Or fancy a change?"): +0.5 ROUGE-1 on CNN/DM, +0.2 on BBC.
- `MAX_OVERLAP = 0.6` (repeat detection) and the 700-character budget: set by hand, not tuned.
- Boilerplate rules: written from the seed article and from what CNN/DM texts contain (DailyMail bylines
  split into "By . Daily Mail Reporter . PUBLISHED: ." fragments, caption lines ending in " ."); the " ." rule
  is specific to how CNN/DM copies were made and costs nothing on web text.
- Raw Lead-3 is hurt by those DailyMail byline fragments; `lead-3-clean` (our boilerplate filter, then the
  first three sentences, dateline stripped) is the fair baseline. "ours" is scored on the displayed text
  (dateline stripped) within the 700-character budget.
- Result: on CNN/DM ours beats every stock sumy method by about 4 ROUGE-1 points (CIs apart) and matches
  clean Lead-3 (within noise); centrality adds nothing there and position does the work. On BBC, TextRank,
  Reduction, Edmundson and Luhn score above ours, for the reason given for the weight above: the bar of
  beating every stock method holds on lead-first news (CNN/DM), not on the BBC references.
- sumy scores a document model built from our sentences with a cached stemmer, which makes it several times
  cheaper than the stock pipeline (parser + uncached Snowball stemming) timed in the ms column.
"""

Summarizer = Callable[[str], list[str]]
TOKENIZER = SumyTokenizer()
STOP_WORDS = get_stop_words("english")


def load(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def lead3(text: str) -> list[str]:
    return [s.text for s in split_sentences(text)[:COUNT]]


def clean_lead3(text: str) -> list[str]:
    """Lead-3 after our boilerplate filter and dateline stripping: the baseline to beat, not raw Lead-3."""
    kept = [s for s in split_sentences(text) if not is_boilerplate(s.text)]
    return [" ".join(strip_dateline(s.text).split()) for s in kept[:COUNT]]


def ours(text: str, **options: float) -> list[str]:
    chosen = summarize(split_sentences(text), max_sentences=COUNT, **options)
    return [" ".join(strip_dateline(s.text).split()) for s in chosen]


def _frequent_words(text: str, count: int) -> list[str]:
    """The most frequent content words (surface forms; Edmundson stems its bonus words itself)."""
    counter = collections.Counter(w.lower() for w in TOKENIZER.to_words(text) if w.lower() not in STOP_WORDS)
    return [w for w, _ in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:count]]


def stock(cls: type) -> Summarizer:
    summarizer = cls(Stemmer("english"))
    if cls is EdmundsonSummarizer:
        summarizer.null_words = STOP_WORDS
        summarizer.stigma_words = EDMUNDSON_STIGMA
    else:
        summarizer.stop_words = STOP_WORDS

    def run(text: str) -> list[str]:
        if cls is EdmundsonSummarizer:
            summarizer.bonus_words = _frequent_words(text, EDMUNDSON_BONUS)
        document = PlaintextParser.from_string(text, TOKENIZER).document
        return [str(s) for s in summarizer(document, COUNT)]

    return run


def methods() -> dict[str, Summarizer]:
    table: dict[str, Summarizer] = {
        "lead-3": lead3,
        "lead-3-clean": clean_lead3,
        "ours": ours,
        "ours-position-only": lambda t: ours(t, centrality_weight=0.0),
        "ours-centrality-only": lambda t: ours(t, centrality_weight=1.0),
    }
    for name, cls in [
        ("sumy LexRank", LexRankSummarizer),
        ("sumy TextRank", TextRankSummarizer),
        ("sumy LSA", LsaSummarizer),
        ("sumy Luhn", LuhnSummarizer),
        ("sumy Edmundson", EdmundsonSummarizer),
        ("sumy SumBasic", SumBasicSummarizer),
        ("sumy KL", KLSummarizer),
        ("sumy Reduction", ReductionSummarizer),
    ]:
        table[name] = stock(cls)
    return table


def bootstrap_ci(values: np.ndarray, seed: int = 0) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), size=(BOOTSTRAP, len(values)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def evaluate(summarizer: Summarizer, rows: list[dict[str, str]]) -> dict[str, object]:
    scorer = rouge_scorer.RougeScorer(list(METRICS), use_stemmer=True)
    scores: dict[str, list[float]] = {m: [] for m in METRICS}
    elapsed = 0.0
    for row in rows:
        started = time.perf_counter()
        summary = summarizer(row["text"])
        elapsed += time.perf_counter() - started
        result = scorer.score(row["reference"], "\n".join(summary))
        for metric in METRICS:
            scores[metric].append(result[metric].fmeasure * 100)
    out: dict[str, object] = {"ms": elapsed / len(rows) * 1000}
    for metric in METRICS:
        values = np.array(scores[metric])
        out[metric] = (float(values.mean()), *bootstrap_ci(values))
    return out


def warm_speed(rows: list[dict[str, str]], rounds: int = 5) -> str:
    """ms per article for our whole summarize step (split + summarize) with stems cached, as in a
    long-running worker: the fastest of `rounds` runs per article, so other load on the machine does not
    count. The ms column of the tables is a single cold pass, load included."""
    best = [float("inf")] * len(rows)
    for _ in range(rounds):
        for i, row in enumerate(rows):
            started = time.perf_counter()
            summarize(split_sentences(row["text"]))
            best[i] = min(best[i], (time.perf_counter() - started) * 1000)
    words = np.mean([len(row["text"].split()) for row in rows])
    return (
        f"ours, split + summarize, warm, fastest of {rounds} per article: mean {np.mean(best):.1f} ms, "
        f"median {np.median(best):.1f} ms, max {max(best):.1f} ms ({words:.0f} words on average)"
    )


def bbc_sample() -> list[dict[str, str]]:
    rows = load("summ_bbc_news_summary.jsonl")
    step = len(rows) // BBC_SAMPLE
    return rows[::step][:BBC_SAMPLE]


def format_table(results: dict[str, dict[str, object]]) -> list[str]:
    lines = ["| method | ROUGE-1 | ROUGE-2 | ROUGE-Lsum | ms/article |", "|---|---|---|---|---:|"]
    for name, r in results.items():
        cells = [f"{r[m][0]:.1f} [{r[m][1]:.1f}, {r[m][2]:.1f}]" for m in METRICS]  # type: ignore[index]
        lines.append(f"| {name} | {' | '.join(cells)} | {r['ms']:.1f} |")
    return lines


def _commit() -> str:
    command = ["git", "rev-parse", "--short", "HEAD"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    return done.stdout.strip() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--methods", help="comma-separated method names (default: all)")
    parser.add_argument("--no-write", action="store_true", help=f"print only, do not write {RESULTS.name}")
    args = parser.parse_args()
    table = methods()
    if args.methods:
        wanted = args.methods.split(",")
        table = {k: v for k, v in table.items() if k in wanted}
    content_terms("warm up the stemmer and stop words")
    sets = {
        "CNN/DailyMail dev (main, n=135)": load("summ_cnndm_dev.jsonl"),
        f"BBC News Summary (secondary, every k-th, n={BBC_SAMPLE})": bbc_sample(),
    }
    report = [
        "# Summary quality",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit `{_commit()}`, "
        f"`.venv/bin/python bench/quality_summary.py`; load average {os.getloadavg()[0]:.1f} (2 cores)",
        "",
        f"{COUNT} sentences per summary; ROUGE F1 x100 (rouge-score, use_stemmer=True, Lsum on newline-"
        f"separated sentences), mean over articles with a 95% bootstrap CI ({BOOTSTRAP} resamples).",
    ]
    for title, rows in sets.items():
        results = {}
        for name, summarizer in table.items():
            results[name] = evaluate(summarizer, rows)
            print(f"{title[:20]} {name}: {results[name]}", file=sys.stderr)
        report += ["", f"## {title}", "", *format_table(results), "", warm_speed(rows)]
    text = "\n".join([*report, "", NOTES])
    print(text)
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
