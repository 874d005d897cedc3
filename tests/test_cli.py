"""`briefbot` as a user runs it: real processes, real exit codes, one-line errors, never a traceback."""

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from fakes import BRIEFING_KEYS

ROOT = Path(__file__).resolve().parents[1]
BRIEFBOT = str(Path(sys.executable).with_name("briefbot"))
EXAMPLE = ROOT / "examples" / "harbour_tunnel.html"


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BRIEFBOT, *args], check=False, input=stdin, capture_output=True, text=True, timeout=120, cwd=ROOT
    )


def test_brief_example_page_as_text() -> None:
    result = run("brief", str(EXAMPLE))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Helsinki and Tallinn sign deal to study undersea rail tunnel"
    assert "published 2026-03-12" in lines[1]
    assert sum(line.startswith("• ") for line in lines) == 3
    assert any(line.startswith("Key actors: ") for line in lines)
    assert "September 2025 (2025-09): “Last September”" in result.stdout
    assert "“Thursday”" not in result.stdout  # the publication day, shown beside the title, gives way


def test_brief_stdin_as_json() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    result = run("brief", "-", "--json", "--published", "2026-03-12", stdin=text)
    assert result.returncode == 0, result.stderr
    briefing = json.loads(result.stdout)
    assert set(briefing) == BRIEFING_KEYS
    assert briefing["published"] == "2026-03-12"
    assert all(set(a) == {"name", "kind", "mentions", "aliases"} for a in briefing["actors"])
    assert all(set(d) == {"text", "value", "start", "end"} for d in briefing["dates"])


def test_brief_a_page_as_json_with_its_text_shows_where_each_summary_sentence_came_from() -> None:
    result = run("brief", str(ROOT / "examples" / "harbour_tunnel.html"), "--json", "--with-text")
    assert result.returncode == 0, result.stderr
    briefing = json.loads(result.stdout)
    text = briefing["text"]
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    for sentence, span in zip(briefing["summary"], briefing["summary_spans"], strict=True):
        assert " ".join(text[span["start"] : span["end"]].split()) == sentence
        assert text[span["start"] : span["end"]] in paragraphs[span["paragraph"]]
    for mention in briefing["dates"]:
        assert text[mention["start"] : mention["end"]] == mention["text"]
    without = json.loads(run("brief", str(ROOT / "examples" / "harbour_tunnel.html"), "--json").stdout)
    assert "text" not in without and without["summary_spans"] == briefing["summary_spans"]


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("brief", "no-such-file.txt"), "bad_input"),
        (("brief", "ftp://example.org/file.txt"), "invalid_url"),
        (("brief", "http://127.0.0.1:9/"), "blocked_address"),
        (("brief", "http://169.254.169.254/latest/meta-data/"), "blocked_address"),
        (("brief", "http://[::1]:9/"), "blocked_address"),
        (("brief", "http://" + "a" * 64 + ".localhost/"), "invalid_url"),  # was internal_error, from IDNA
        (("brief", "http://a..localhost/"), "invalid_url"),
        (("brief", "http://127.0.0.1:9/\udcae"), "blocked_address"),  # a lone surrogate in the path
    ],
)
def test_errors_are_one_friendly_line(args: tuple[str, ...], code: str) -> None:
    result = run(*args)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("briefbot: ")
    assert result.stderr.rstrip().endswith(f"[{code}]")
    assert "Traceback" not in result.stderr


def test_bad_config_names_the_key(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[fetch]\ntimeout_secs = 3\n")
    result = run("brief", str(EXAMPLE), "--config", str(config))
    assert result.returncode == 2
    assert "fetch.timeout_secs" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_published_date_is_a_usage_error() -> None:
    result = run("brief", str(EXAMPLE), "--published", "yesterday")
    assert result.returncode == 2
    assert "not a date like 2021-09-01" in result.stderr


def test_batch_output_does_not_depend_on_the_hash_seed() -> None:
    # The order of sets of strings changes with PYTHONHASHSEED; a briefing must not.
    seed = (ROOT.parent / "shared" / "examples" / "seed_article.txt").read_text(encoding="utf-8")
    rows = [
        {"id": "page", "html": EXAMPLE.read_text(encoding="utf-8")},
        {"id": "seed", "text": seed, "published": "2021-09-01"},
    ]
    stdin = "".join(json.dumps(row) + "\n" for row in rows)
    outputs = []
    for hash_seed in ("1", "2"):
        result = subprocess.run(
            [BRIEFBOT, "batch", "--workers", "1"],
            check=False,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
        )
        assert result.returncode == 0, result.stderr
        assert "articles/s" not in result.stderr  # no progress bar when stderr is not a terminal
        outputs.append(result.stdout)
    briefings = [json.loads(line) for line in outputs[0].splitlines()]
    assert [b["id"] for b in briefings] == ["page", "seed"]
    assert all(b["summary"] and len(b["actors"]) > 3 and b["dates"] for b in briefings)
    assert outputs[0] == outputs[1]


@pytest.mark.parametrize(
    "argv",
    [
        ["--config", "my.toml", "-v", "brief", "x"],
        ["brief", "--config", "my.toml", "-v", "x"],
        ["-v", "brief", "--config", "my.toml", "x"],
        ["--config", "other.toml", "brief", "--config", "my.toml", "-v", "x"],
    ],
)
def test_global_options_go_before_or_after_the_command(argv: list[str]) -> None:
    from bot.cli import build_parser  # noqa: PLC0415

    args = build_parser().parse_args(argv)
    assert (args.command, args.config, args.verbose, args.source) == ("brief", "my.toml", True, "x")


def test_config_before_the_command_is_read(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[summary]\nsentences = -1\n", encoding="utf-8")
    before = run("--config", str(config), "brief", str(EXAMPLE))
    after = run("brief", "--config", str(config), str(EXAMPLE))
    assert before.returncode == after.returncode == 2
    assert before.stderr == after.stderr
    assert "sentences" in before.stderr


def test_defaults_without_global_options() -> None:
    from bot.cli import build_parser  # noqa: PLC0415

    args = build_parser().parse_args(["run"])
    assert (args.config, args.verbose) == (None, False)


@pytest.mark.parametrize(("encoding", "as_json"), [("ascii:strict", True), ("latin-1:strict", False)])
def test_brief_writes_utf8_whatever_the_locale(encoding: str, as_json: bool) -> None:
    # The page has curly quotes and accents; an ASCII or Latin-1 stdout used to fail on them (internal_error).
    text = EXAMPLE.read_text(encoding="utf-8").replace("Helsinki", "Helsinki\u2019s \u00e9t\u00e9")
    result = subprocess.run(
        [BRIEFBOT, "brief", "-", *(["--json"] if as_json else [])],
        check=False, input=text.encode("utf-8"), capture_output=True, timeout=120, cwd=ROOT,
        env={**os.environ, "PYTHONIOENCODING": encoding},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode("utf-8")  # strict
    title = json.loads(out)["title"] if as_json else out.splitlines()[0]
    assert title == "Helsinki\u2019s \u00e9t\u00e9 and Tallinn sign deal to study undersea rail tunnel"


def test_batch_on_a_terminal_shows_progress_on_stderr_only(tmp_path: Path) -> None:
    seed = (ROOT.parent / "shared" / "examples" / "seed_article.txt").read_text(encoding="utf-8")
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps({"id": n, "text": seed}) + "\n" for n in range(4)), encoding="utf-8")
    main, terminal = pty.openpty()  # stderr is a terminal, stdout a pipe, stdin a file (so an ETA)
    with rows.open("rb") as stdin:
        process = subprocess.Popen(
            [BRIEFBOT, "batch", "--workers", "1"],
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=terminal,
            cwd=ROOT,
        )
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # EIO: every holder of the terminal's end has closed it
            break
        if not chunk:
            break
        shown += chunk
    stdout, _ = process.communicate(timeout=120)
    os.close(main)
    assert process.returncode == 0
    assert [json.loads(line)["id"] for line in stdout.splitlines()] == [0, 1, 2, 3]
    last = [line for line in shown.decode().split("\r") if line.strip()][-1]  # the terminal adds \r to \n
    assert "4 articles" in last and "articles/s" in last and "100%" in last and "ETA 0:00" in last
    assert b"articles/s" not in stdout
