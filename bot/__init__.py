"""briefbot core: from a link, a page or pasted text to a briefing. Never imports a chat platform SDK."""

__version__ = "0.1.0"
