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


class InvalidUrlError(BriefError):
    code = "invalid_url"
    default_message = "That doesn't look like a web address I can open (only http and https links)."


class BlockedAddressError(BriefError):
    code = "blocked_address"
    default_message = "That link points to a private or internal address; I won't fetch it."


class UnreachableError(BriefError):
    code = "unreachable"
    default_message = "I couldn't reach that site."


class NotFoundError(BriefError):
    code = "not_found"
    default_message = "That page doesn't exist (HTTP 404)."


class ForbiddenError(BriefError):
    code = "forbidden"
    default_message = "That site refused to give me the page (HTTP 403)."


class HttpError(BriefError):
    code = "http_error"
    default_message = "That site answered with an error."


class UpstreamError(BriefError):
    code = "upstream_error"
    default_message = "That site is having trouble right now (server error); try again later."


class FetchTimeoutError(BriefError):
    code = "timeout"
    default_message = "That site took too long to answer."


class BriefingTimeoutError(FetchTimeoutError):
    default_message = "That page took too long to brief; it is probably far longer than a news article."


class TooLargeError(BriefError):
    code = "too_large"
    default_message = "That page is too large for me to brief."


class TooManyRedirectsError(BriefError):
    code = "too_many_redirects"
    default_message = "That link redirects too many times."


class UnsupportedTypeError(BriefError):
    code = "unsupported_type"
    default_message = "I can't brief this kind of file; I only read web pages and plain text."


class NotAnArticleError(BriefError):
    code = "not_an_article"
    default_message = "I couldn't find an article on that page."


class NotAFeedError(BriefError):
    code = "not_a_feed"
    default_message = "That address doesn't give a news feed I can read (RSS or Atom)."


class TooShortError(BriefError):
    code = "too_short"
    default_message = "That text is too short to summarize."


class UnsupportedLanguageError(BriefError):
    code = "unsupported_language"
    default_message = "I can only brief articles in English for now."


class BadInputError(BriefError):
    code = "bad_input"
    default_message = "I need a link, a page or some text to brief."


class InternalError(BriefError):
    """Shown in place of a fault (a bug); the fault itself is logged with its traceback, never shown."""

    code = "internal_error"
    default_message = "Sorry, something went wrong on my side while briefing that."
