"""Summary scoring: ROUGE-1/2/Lsum F1 per article (rouge-score, stemming on), and the baselines computed in
the bench process: Lead-3 (raw, and after our boilerplate cleanup) and every stock sumy method.

Stock sumy methods get our tokenizer (sumy's own needs NLTK data), the Snowball stemmer and sumy's English
stop words; Edmundson gets the article's most frequent content words as bonus words (no titles in CNN/DM).
"""

from __future__ import annotations

import collections
from collections.abc import Callable

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

from bot.briefing.boilerplate import is_boilerplate, strip_dateline
from bot.briefing.sentences import SumyTokenizer, split_sentences
from bot.briefing.summarize import summarize
from bot.stopwords import stop_words

COUNT = 3
METRICS = ("rouge1", "rouge2", "rougeLsum")
EDMUNDSON_BONUS = 10
EDMUNDSON_STIGMA = ("hardly", "impossible", "perhaps", "maybe", "reportedly", "allegedly", "rumour", "rumor")
STOCK = {
    "sumy LexRank": LexRankSummarizer,
    "sumy TextRank": TextRankSummarizer,
    "sumy LSA": LsaSummarizer,
    "sumy Luhn": LuhnSummarizer,
    "sumy Edmundson": EdmundsonSummarizer,
    "sumy SumBasic": SumBasicSummarizer,
    "sumy KL": KLSummarizer,
    "sumy Reduction": ReductionSummarizer,
}

Summarizer = Callable[[str], list[str]]
Scores = dict[str, np.ndarray]  # metric -> F1 x100 per article
TOKENIZER = SumyTokenizer()
STOP_WORDS = stop_words("english")


def _display(text: str) -> str:
    return " ".join(strip_dateline(text).split())


def lead3(text: str) -> list[str]:
    return [s.text for s in split_sentences(text)[:COUNT]]


def clean_lead3(text: str) -> list[str]:
    """Lead-3 after our boilerplate filter and dateline stripping: the fair baseline (raw Lead-3 is hurt
    by DailyMail byline fragments)."""
    kept = [s for s in split_sentences(text) if not is_boilerplate(s.text)]
    return [_display(s.text) for s in kept[:COUNT]]


def ours_library(text: str, **options: float) -> list[str]:
    """Our summarizer called directly on the whole text (ablations; the product's numbers come from batch)."""
    return [_display(s.text) for s in summarize(split_sentences(text), max_sentences=COUNT, **options)]


def _frequent_words(text: str, count: int) -> list[str]:
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


def baselines() -> dict[str, Summarizer]:
    return {"lead-3": lead3, "lead-3-clean": clean_lead3, **{name: stock(cls) for name, cls in STOCK.items()}}


def ablations() -> dict[str, Summarizer]:
    return {
        "ours, library call on the text": ours_library,
        "ours-position-only (library)": lambda t: ours_library(t, centrality_weight=0.0),
        "ours-centrality-only (library)": lambda t: ours_library(t, centrality_weight=1.0),
    }


def rouge(summaries: list[list[str]], references: list[str]) -> Scores:
    """ROUGE F1 x100 per article; Lsum splits on newlines, so sentences are joined by newlines. An empty
    summary (an errored row) scores 0."""
    scorer = rouge_scorer.RougeScorer(list(METRICS), use_stemmer=True)
    rows = [scorer.score(ref, "\n".join(summary)) for summary, ref in zip(summaries, references, strict=True)]
    return {m: np.array([r[m].fmeasure * 100 for r in rows]) for m in METRICS}


def best_stock(scores: dict[str, Scores]) -> str:
    """The stock sumy method with the highest mean ROUGE-1 on this set."""
    return max((name for name in scores if name in STOCK), key=lambda name: scores[name]["rouge1"].mean())
