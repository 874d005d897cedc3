"""Markdown for bench/results/quality.md and the marked summary section of bench/README.md."""

from __future__ import annotations

import re
import textwrap
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from quality import actors, dates, pages, summaries
from quality.batch import BatchRun
from quality.stats import mean_ci, paired_difference, pooled_ci, pooled_difference
from quality.timing import SLOWDOWN, TARGET_ARTICLES_PER_S, TARGET_PAGE_MS, PageSpeed

START, END = "<!-- quality:start -->", "<!-- quality:end -->"
OURS = "**ours** (`briefbot batch`)"
WIDTH = 110
RESAMPLES_NOTE = "95% bootstrap CIs over documents (1000 resamples, seed 0)"


def _ms(value: float | None) -> str:
    return "batch" if value is None else f"{value:.1f}"


def summary_table(scores: dict[str, summaries.Scores], ms: dict[str, float | None]) -> list[str]:
    lines = ["| method | ROUGE-1 | ROUGE-2 | ROUGE-Lsum | ms/article |", "|---|---|---|---|---:|"]
    for name, by_metric in scores.items():
        cells = " | ".join(mean_ci(by_metric[m]).show() for m in summaries.METRICS)
        lines.append(f"| {name} | {cells} | {_ms(ms[name])} |")
    return lines


def summary_differences(scores: dict[str, summaries.Scores], against: list[str]) -> list[str]:
    lines = [
        "| ours − | ROUGE-1 | ROUGE-2 | ROUGE-Lsum |",
        "|---|---|---|---|",
    ]
    for name in against:
        cells = " | ".join(
            paired_difference(scores[OURS][m], scores[name][m]).show_signed() for m in summaries.METRICS
        )
        lines.append(f"| {name} | {cells} |")
    return lines


def actor_table(counts: dict[str, np.ndarray], ms: dict[str, float | None]) -> list[str]:
    lines = [
        "| system | person F1 | organization F1 | place F1 | all P | all R | all F1 | ms/article |",
        "|---|---|---|---|---:|---:|---|---:|",
    ]
    for name, c in counts.items():
        kinds = " | ".join(pooled_ci(c, actors.micro_f1([k])).show(100) for k in actors.KINDS)
        p, r = actors.precision_recall(c)
        every = pooled_ci(c, actors.micro_f1()).show(100)
        lines.append(f"| {name} | {kinds} | {100 * p:.1f} | {100 * r:.1f} | {every} | {_ms(ms[name])} |")
    return lines


def actor_difference(counts: dict[str, np.ndarray], other: str) -> list[str]:
    kinds = [*[[k] for k in actors.KINDS], list(actors.KINDS)]
    cells = " | ".join(
        pooled_difference(counts[OURS], counts[other], actors.micro_f1(k)).show_signed(100) for k in kinds
    )
    return [
        "| ours − | person F1 | organization F1 | place F1 | all F1 |",
        "|---|---|---|---|---|",
        f"| {other} | {cells} |",
    ]


DATE_STATS = {
    "strict F1": dates.strict_f1,
    "relaxed F1": dates.relaxed_f1,
    "value accuracy": dates.value_accuracy,
    "value F1": dates.value_f1,
}


def date_table(counts: dict[str, np.ndarray], ms: dict[str, float | None]) -> list[str]:
    lines = [
        "| system | strict P | strict R | relaxed P | relaxed R | "
        + " | ".join(DATE_STATS)
        + " | ms/article |",
        "|---|---:|---:|---:|---:|---|---|---|---|---:|",
    ]
    for name, c in counts.items():
        strict, relaxed = dates.precision_recall(c, dates.STRICT), dates.precision_recall(c, dates.RELAXED)
        prs = " | ".join(f"{x:.3f}" for x in (*strict, *relaxed))
        cells = " | ".join(pooled_ci(c, stat).show(digits=3) for stat in DATE_STATS.values())
        lines.append(f"| {name} | {prs} | {cells} | {_ms(ms[name])} |")
    return lines


def date_difference(counts: dict[str, np.ndarray], other: str) -> list[str]:
    cells = " | ".join(
        pooled_difference(counts[OURS], counts[other], stat).show_signed(digits=3)
        for stat in DATE_STATS.values()
    )
    return ["| ours − | " + " | ".join(DATE_STATS) + " |", "|---|---|---|---|---|", f"| {other} | {cells} |"]


def errors_table(errors: dict[str, tuple[int, Counter[str]]]) -> list[str]:
    lines = ["| set | rows | errored rows (by code) |", "|---|---:|---|"]
    for title, (rows, codes) in errors.items():
        shown = ", ".join(f"{code} {n}" for code, n in sorted(codes.items())) or "none"
        lines.append(f"| {title} | {rows} | {shown} |")
    return lines


PEER = "newspaper4k 0.9.6 (parse + nlp.summarize, 3 sentences)"


def _refusals(codes: Counter[str]) -> str:
    return ", ".join(f"{code} {n}" for code, n in sorted(codes.items())) or "none"


def real_pages_table(systems: dict[str, pages.PageScores]) -> list[str]:
    lines = [
        "| system | briefed | title found | date found | refused (by code) | summary sentences | "
        "with furniture | headline repeats | top-5 actors | from furniture |",
        "|---|---:|---:|---:|---|---:|---|---|---:|---|",
    ]
    for name, s in systems.items():
        furniture = s.rate("furniture", "sentences").show(100)
        headline = f"{s.total('headline')} ({s.rate('headline', 'sentences').show(100)})"
        actor_cells = (
            f"{s.total('actors')} | {s.total('actors_from_furniture')} "
            f"({s.rate('actors_from_furniture', 'actors').show(100)})"
            if s.total("actors")
            else "- | -"
        )
        lines.append(
            f"| {name} | {s.briefed}/{s.pages} | {s.titled} | {s.dated} | {_refusals(s.refusals)} | "
            f"{s.total('sentences')} | {s.total('furniture')} ({furniture}) | {headline} | {actor_cells} |"
        )
    return lines


def page_speed_lines(speed: PageSpeed) -> list[str]:
    return [
        f"Per-stage timing from bench/speed.py on {speed.pages} pages (median {speed.page_kb:.0f} KB of "
        f"HTML), one process, wall clock; load average {speed.load[0]:.1f} before, "
        f"{speed.load[1]:.1f} after.",
        "",
        "| stage | median ms | p95 ms |",
        "|---|---:|---:|",
        *(
            f"| {'**pipeline**' if name == 'pipeline' else name} | {median:.1f} | {p95:.1f} |"
            for name, (median, p95) in speed.stages.items()
        ),
        *(
            f"| pipeline, second pass, {how} | {median:.1f} | {p95:.1f} |"
            for how, (median, p95) in speed.second_pass.items()
        ),
        "",
        f"T{page_target(speed)[1:]}. CPU time leaves out other people's load on this shared machine; "
        "wall clock does not.",
    ]


def page_target(speed: PageSpeed) -> str:
    here = TARGET_PAGE_MS * SLOWDOWN
    return (
        f"target {TARGET_PAGE_MS:.0f} ms per page on the issue's machine, ~{here:.0f} ms on this machine "
        f"kind (~{SLOWDOWN:.0f}x slower, bench/README.md): pipeline median on the second pass "
        f"{speed.second_pass['process CPU time'][0]:.0f} ms CPU, "
        f"{speed.second_pass['wall clock'][0]:.0f} ms wall clock"
    )


def rate_target(rate: float) -> str:
    here = TARGET_ARTICLES_PER_S / SLOWDOWN
    return (
        f"{rate:.1f} articles/s against a target of {TARGET_ARTICLES_PER_S:.0f}/s on the issue's machine, "
        f"~{here:.0f}/s on this machine kind"
    )


def replace_section(readme: Path, section: str) -> None:
    """Rewrite the text between the quality markers (they must exist) and keep the rest of the file."""
    text = readme.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(text):
        raise SystemExit(f"{readme}: no {START} ... {END} markers")
    readme.write_text(pattern.sub(lambda _: f"{START}\n{section.strip()}\n{END}", text), encoding="utf-8")


@dataclass
class Results:
    header: list[str]
    summaries: dict[str, tuple[str, dict[str, summaries.Scores], dict[str, float | None]]]  # set -> ...
    actors: tuple[str, dict[str, np.ndarray], dict[str, float | None]]
    dates: tuple[str, dict[str, np.ndarray], dict[str, float | None]]
    errors: dict[str, tuple[int, Counter[str]]]
    batch: BatchRun
    batch_words: float  # mean words per batch row
    determinism: tuple[bool, int]  # byte-identical?, rows compared
    real_pages: dict[str, pages.PageScores]  # system -> scores on pages_real_dev
    speed: PageSpeed
    notes: str


def _summary_sections(results: Results) -> list[str]:
    out = []
    for title, scores, ms in results.summaries.values():
        n = len(next(iter(scores.values()))["rouge1"])
        best = summaries.best_stock(scores)
        against = ["lead-3", "lead-3-clean", best]
        out += [
            f"### {title}, n={n}",
            "",
            *summary_table(scores, ms),
            "",
            f"Paired differences (same resampled articles; best stock sumy method here: {best}):",
            "",
            *summary_differences(scores, against),
            "",
        ]
    return out


def _real_pages_section(results: Results) -> list[str]:
    ours = results.real_pages[OURS]
    return [
        f"## Real pages: {pages.FILE}, {ours.pages} pages (HTML as crawled)",
        "",
        "Furniture: summary sentences holding a `without` snippet (whitespace and case normalised, at word",
        "boundaries); headline repeats: our own check against the briefing's title and the page's <title>;",
        "actors from furniture: top-5 actors named in a `without` snippet and in no `with` snippet. Rates in",
        "percent with 95% bootstrap CIs over pages. `--quick` prints what it counted. The peer's sentence",
        "splitter is ours (its own downloads NLTK data); it lists no actors.",
        "",
        *real_pages_table(results.real_pages),
        "",
    ]


def full_report(results: Results) -> str:
    run = results.batch
    same, compared = results.determinism
    actor_title, actor_counts, actor_ms = results.actors
    date_title, date_counts, date_ms = results.dates
    lines = [
        "# Quality and speed of `briefbot batch` on the dev sets",
        "",
        *results.header,
        "",
        '"ours" is always the product: every dev row went through one `briefbot batch --workers 2` run',
        "and its JSON lines were scored; a row that errored counts as an empty briefing. Baselines ran in",
        f"the bench process in the same run. Means and micro-averaged rates carry {RESAMPLES_NOTE};",
        "a paired difference whose CI excludes 0 is a real difference on this set. ms/article of",
        "baselines: median, one pass, wall clock (load counts).",
        "",
        "## Rows that errored",
        "",
        *errors_table(results.errors),
        "",
        "## Summaries: ROUGE F1 x100 (rouge-score, use_stemmer=True; Lsum on newline-separated sentences)",
        "",
        *_summary_sections(results),
        *_real_pages_section(results),
        f"## Actors: {actor_title}, document-level F1 x100",
        "",
        *actor_table(actor_counts, actor_ms),
        "",
        *actor_difference(actor_counts, next(n for n in actor_counts if n.startswith("plain spaCy"))),
        "",
        f"## Dates: {date_title}, TempEval-3 style, micro-averaged",
        "",
        *date_table(date_counts, date_ms),
        "",
        *date_difference(date_counts, "dateparser search_dates"),
        "",
        "## Speed, same run",
        "",
        f"`briefbot batch --workers 2` over all {len(run.lines)} rows above (text rows, no HTML extraction; "
        f"{results.batch_words:.0f} words per row on average): start-up (process start to first output line) "
        f"{run.startup_s:.2f} s; steady {run.rate:.1f} articles/s (lines after the first); "
        f"{run.wall_s:.1f} s in all; load average {run.load[0]:.1f} before, {run.load[1]:.1f} after.",
        f"Steady rate: {rate_target(run.rate)} (for pages; these rows are text and skip extraction, "
        f"{results.speed.stages['extract'][0]:.0f} ms per page below). Wall clock, so the load counts.",
        "",
        *page_speed_lines(results.speed),
        "",
        "## Determinism",
        "",
        f"The first {compared} CNN/DM rows briefed again by a second batch process with another "
        f"PYTHONHASHSEED (1 vs 2): output lines {'byte-identical' if same else 'DIFFERENT'}.",
        "",
        results.notes.strip(),
        "",
    ]
    return "\n".join(lines)


def _name(title: str) -> str:
    return title.split(" (", maxsplit=1)[0]


def _short(method: str) -> str:
    return method.removeprefix("sumy ")


def _summary_bullets(results: Results) -> list[str]:
    title, scores, _ = results.summaries["cnndm"]
    bbc = results.summaries["bbc"][1]
    best, bbc_best = summaries.best_stock(scores), summaries.best_stock(bbc)

    def rouge(name: str, table: dict[str, summaries.Scores] = scores) -> str:
        return " / ".join(f"{table[name][m].mean():.1f}" for m in summaries.METRICS)

    def diff(name: str) -> str:
        return paired_difference(scores[OURS]["rouge1"], scores[name]["rouge1"]).show_signed()

    return [
        f"- Summaries, {_name(title)} (n={len(scores[OURS]['rouge1'])}), ROUGE-1 / 2 / Lsum: ours "
        f"{rouge(OURS)} (ROUGE-1 {mean_ci(scores[OURS]['rouge1']).show()}); Lead-3 after the same "
        "boilerplate cleanup "
        f"{rouge('lead-3-clean')}; raw Lead-3 {rouge('lead-3')}; best stock sumy ({_short(best)}) "
        f"{rouge(best)}. Paired ROUGE-1 differences: ours − Lead-3-clean {diff('lead-3-clean')}, ours − raw "
        f"Lead-3 {diff('lead-3')}, ours − {_short(best)} {diff(best)}.",
        f"- BBC (secondary; machine-made extractive references): ours {rouge(OURS, bbc)}, Lead-3 "
        f"{rouge('lead-3', bbc)}, best stock sumy ({_short(bbc_best)}) {rouge(bbc_best, bbc)}.",
    ]


def _real_pages_bullet(results: Results) -> str:
    ours, peer = results.real_pages[OURS], results.real_pages[PEER]

    def furniture(s: pages.PageScores) -> str:
        return (
            f"{s.total('furniture')} of {s.total('sentences')} summary sentences carry furniture "
            f"({s.rate('furniture', 'sentences').show(100)}%), {s.total('headline')} repeat the headline"
        )

    return (
        f"- Real pages ({ours.pages}, {pages.FILE}): ours briefed {ours.briefed} (refused: "
        f"{_refusals(ours.refusals)}), title on {ours.titled}, date on {ours.dated}; {furniture(ours)}; "
        f"{ours.total('actors_from_furniture')} of {ours.total('actors')} top-5 actors named only in "
        f"furniture ({ours.rate('actors_from_furniture', 'actors').show(100)}%). newspaper4k on the same "
        f"pages: {furniture(peer)}."
    )


def _actor_bullet(results: Results) -> str:
    _, counts, _ = results.actors
    spacy_name = next(n for n in counts if n.startswith("plain spaCy"))

    def scores(name: str) -> str:
        kinds = ", ".join(
            f"{k} {100 * actors.micro_f1([k])(counts[name].sum(axis=0)):.1f}" for k in actors.KINDS
        )
        return f"{pooled_ci(counts[name], actors.micro_f1()).show(100)} ({kinds})"

    difference = pooled_difference(counts[OURS], counts[spacy_name], actors.micro_f1()).show_signed(100)
    return (
        f"- Actors, CoNLL-2003 dev, document-level F1: ours {scores(OURS)}; plain spaCy "
        f"{scores(spacy_name)}; paired difference {difference}."
    )


def _date_bullet(results: Results) -> str:
    _, counts, _ = results.dates

    def stat(name: str, which: str) -> str:
        return pooled_ci(counts[name], DATE_STATS[which]).show(digits=3)

    theirs = "dateparser search_dates"
    return (
        f"- Dates, TimeBank+AQUAINT: value F1 {stat(OURS, 'value F1')}, value accuracy "
        f"{stat(OURS, 'value accuracy')}, relaxed span F1 {stat(OURS, 'relaxed F1')}, strict "
        f"{stat(OURS, 'strict F1')}; `dateparser.search_dates`: value F1 {stat(theirs, 'value F1')}, "
        f"relaxed span F1 {stat(theirs, 'relaxed F1')}."
    )


def _errored(results: Results) -> str:
    counted = {_name(t): codes for t, (_, codes) in results.errors.items() if codes}
    if not counted:
        return f"none of {sum(rows for rows, _ in results.errors.values())}"
    return "; ".join(
        f"{name} {sum(codes.values())} ({', '.join(f'{c} {n}' for c, n in sorted(codes.items()))})"
        for name, codes in counted.items()
    )


def _run_bullet(results: Results) -> str:
    run, speed = results.batch, results.speed
    loads = [*run.load, *speed.load]
    return (
        f"- Speed, same run (load average {min(loads):.1f}-{max(loads):.1f} on 2 cores): batch start-up "
        f"{run.startup_s:.1f} s; steady batch {rate_target(run.rate)} (text rows); {page_target(speed)} "
        f"(p95 {speed.second_pass['process CPU time'][1]:.0f} ms CPU). Output byte-identical under another "
        f"PYTHONHASHSEED: {'yes' if results.determinism[0] else 'NO'}. Errored rows: {_errored(results)}."
    )


def _wrap(text: str, subsequent_indent: str = "") -> str:
    """Wrap at WIDTH without breaking a confidence interval "[a, b]" across lines."""
    kept = re.sub(r"\[([^\]]*?), ", lambda m: f"[{m.group(1)},\u00a0", text)
    wrapped = textwrap.fill(kept, WIDTH, subsequent_indent=subsequent_indent, break_on_hyphens=False)
    return wrapped.replace("\u00a0", " ")


def readme_section(results: Results, state: str) -> str:
    """Markdown for bench/README.md, wrapped like the rest of that file."""
    bullets = [
        *_summary_bullets(results),
        _real_pages_bullet(results),
        _actor_bullet(results),
        _date_bullet(results),
        _run_bullet(results),
    ]
    intro = (
        f"Measured at {state} (`make quality`; {results.header[0][:10]}). The product's `briefbot batch` "
        "output on the dev sets in ../shared/bench/data, with the baselines computed in the same run; "
        "brackets are 95% bootstrap CIs over documents. Every table, the paired differences and how each "
        "knob was chosen: `results/quality.md`."
    )
    return "\n".join(
        [
            "## Quality and speed of `briefbot batch`",
            "",
            _wrap(intro),
            "",
            *(_wrap(b, subsequent_indent="  ") for b in bullets),
        ]
    )
