"""`briefbot batch`'s progress line (bot.progress): rate from the first answer on, an ETA only when the
input's size is known, never on something that is not a terminal."""

import io

from bot.progress import BatchProgress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_with_the_input_size_known_the_line_shows_share_rate_and_eta() -> None:
    now = [0.0]
    progress = BatchProgress(Terminal(), total_bytes=1000, clock=lambda: now[0])
    for _ in range(4):
        progress.read(100)  # 4 of ~10 lines read
    for second in (10.0, 11.0, 12.0):  # answers at 10 s (start-up), 11 s, 12 s: 1 article/s since the first
        now[0] = second
        progress.done()
    assert progress.line(12.0) == "[#######-----------------]  30%  3 articles  1.0 articles/s  ETA 0:07"


def test_from_a_pipe_the_line_has_no_eta() -> None:
    now = [0.0]
    progress = BatchProgress(Terminal(), total_bytes=None, clock=lambda: now[0])
    for second in (5.0, 7.0, 9.0):
        now[0] = second
        progress.read(50)
        progress.done()
    assert progress.line(9.0) == "3 articles  0.5 articles/s"


def test_no_bar_unless_stderr_is_a_terminal() -> None:
    assert BatchProgress.on(io.StringIO(), io.StringIO()) is None
    assert BatchProgress.on(Terminal(), io.StringIO()) is not None
