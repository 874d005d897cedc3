"""User-facing failures: each has a stable code (for JSON and logs) and a short, friendly message.

Faults (bugs, crashes) are not BriefErrors: callers log them with a traceback and show a one-line apology.
"""

from __future__ import annotations


class BriefError(Exception):
    """A failure the user caused or can do something about; safe to show in chat."""

    code = "brief_error"
    default_message = "Sorry, I couldn't brief that."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def _error(code: str, message: str) -> type[BriefError]:
    return type(code.title().replace("_", "") + "Error", (BriefError,), {"code": code, "default_message": message})


InvalidUrlError = _error("invalid_url", "That doesn't look like a web address I can open (only http and https links).")
BlockedAddressError = _error("blocked_address", "That link points to a private or internal address; I won't fetch it.")
UnreachableError = _error("unreachable", "I couldn't reach that site.")
NotFoundError = _error("not_found", "That page doesn't exist (HTTP 404).")
ForbiddenError = _error("forbidden", "That site refused to give me the page (HTTP 403).")
HttpError = _error("http_error", "That site answered with an error.")
UpstreamError = _error("upstream_error", "That site is having trouble right now (server error); try again later.")
FetchTimeoutError = _error("timeout", "That site took too long to answer.")
TooLargeError = _error("too_large", "That page is too large for me to brief.")
TooManyRedirectsError = _error("too_many_redirects", "That link redirects too many times.")
UnsupportedTypeError = _error("unsupported_type", "I can't brief this kind of file; I only read web pages and plain text.")
NotAnArticleError = _error("not_an_article", "I couldn't find an article on that page.")
TooShortError = _error("too_short", "That text is too short to summarize.")
UnsupportedLanguageError = _error("unsupported_language", "I can only brief articles in English for now.")
BadInputError = _error("bad_input", "I need a link, a page or some text to brief.")
