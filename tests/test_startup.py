"""Start-up stays lean (issue 16): what a briefing process imports and builds before its first briefing.

Speed itself is measured in bench/ (bench/versus.py times `briefbot brief`); these tests pin what makes it
fast: a local file is briefed without the HTTP client, spaCy comes without its command line, and the
gazetteer's patterns are tokenized, not run through the NER.
"""

import subprocess
import sys
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from bot.briefing.gazetteer import RULER_NAME, add_gazetteer

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "harbour_tunnel.html"


def python(code: str) -> list[str]:
    """Run `code` in a fresh interpreter (nothing imported yet); its stdout lines."""
    result = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    return result.stdout.splitlines()


def test_briefing_a_local_file_never_imports_the_http_client() -> None:
    lines = python(
        "import sys\nfrom bot.cli import main\n"
        f"code = main(['brief', {str(EXAMPLE)!r}])\n"
        "print(code, 'aiohttp' in sys.modules, 'ssl' in sys.modules and 'aiohttp.connector' in sys.modules)"
    )
    assert lines[0] == "Helsinki and Tallinn sign deal to study undersea rail tunnel"
    assert lines[-1] == "0 False False"


def test_briefing_imports_leave_out_spacys_command_line_which_still_works_when_asked_for() -> None:
    lines = python(
        "import sys\nfrom bot.briefing import preload\npreload.load()\n"
        "print(sorted(m for m in ('spacy.cli', 'typer', 'click', 'weasel', 'rich') if m in sys.modules))\n"
        "import spacy\nprint(spacy.info(markdown=False, silent=True)['spacy_version'] == spacy.__version__)\n"
        "import spacy.cli\nprint(callable(spacy.cli.setup_cli))"
    )
    assert lines == ["[]", "True", "True"]


def test_gazetteer_patterns_are_tokenized_without_running_the_pipes_before_it() -> None:
    seen: list[str] = []

    @Language.component("test_startup_counter")
    def counter(doc: Doc) -> Doc:
        seen.append(doc.text)
        return doc

    nlp = spacy.blank("en")
    nlp.add_pipe("test_startup_counter")
    add_gazetteer(nlp)
    assert seen == [], "no pattern went through the pipes before the ruler"
    assert nlp.pipe_names == ["test_startup_counter", RULER_NAME], "and every pipe is enabled again"

    doc = nlp("Reporters from Yonhap and KCNA met in North Korea.")
    assert seen == [doc.text]
    assert {(ent.text, ent.label_) for ent in doc.ents} >= {("Yonhap", "ORG"), ("KCNA", "ORG")}
