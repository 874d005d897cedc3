"""Plain data passed between the pipeline stages, across the process boundary (a Source in, a Briefing out)
and out to adapters and JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

ActorKind = Literal["person", "organization", "place", "other"]


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence of the article text, with character offsets into that text."""

    text: str
    start: int
    end: int
    paragraph: int  # index of the paragraph (blank-line separated block) holding the sentence
    index: int  # position of the sentence in the article, from 0


@dataclass(frozen=True, slots=True)
class Actor:
    name: str  # canonical display name ("United States", "Kim Jong Un")
    kind: ActorKind
    mentions: int
    aliases: tuple[str, ...] = ()  # other surface forms seen in the text ("US", "U.S.", "Kim")
    salience: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "mentions": self.mentions,
            "aliases": list(self.aliases),
        }


@dataclass(frozen=True, slots=True)
class DateMention:
    text: str  # as written ("last October")
    value: str  # ISO 8601 at its real granularity: YYYY, YYYY-MM, YYYY-MM-DD or YYYY-Www
    start: int  # character offsets into the article text
    end: int

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "value": self.value, "start": self.start, "end": self.end}


@dataclass(frozen=True, slots=True)
class SummarySpan:
    """Where a summary sentence came from: character offsets into the article text, and its paragraph."""

    start: int
    end: int
    paragraph: int  # index of the blank-line separated block of the article text

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "paragraph": self.paragraph}


@dataclass(slots=True)
class Article:
    """What extraction yields: the clean article text and what we know about it."""

    text: str
    title: str | None = None
    published: date | None = None
    url: str | None = None
    truncated: bool = False  # the page or text was cut to the caps before briefing (bot.briefing.limits)


@dataclass(slots=True)
class Briefing:
    title: str | None
    url: str | None
    published: date | None
    summary: list[str]
    actors: list[Actor] = field(default_factory=list)
    dates: list[DateMention] = field(default_factory=list)
    truncated: bool = False  # only the first part of an over-long article was briefed
    summary_spans: list[SummarySpan] = field(default_factory=list)  # one per summary sentence
    # The article text the briefing was made from (offsets index it); alerts match queries against it.
    # Not part of the JSON, and dropped before a briefing is cached.
    text: str | None = field(default=None, repr=False, compare=False)

    def to_dict(self, *, with_text: bool = False) -> dict[str, Any]:
        """The JSON form; `with_text` adds the article text that summary spans and date offsets index."""
        data = {
            "title": self.title,
            "url": self.url,
            "published": self.published.isoformat() if self.published else None,
            "summary": list(self.summary),
            "summary_spans": [span.to_dict() for span in self.summary_spans],
            "actors": [a.to_dict() for a in self.actors],
            "dates": [d.to_dict() for d in self.dates],
            "truncated": self.truncated,
        }
        if with_text:
            data["text"] = self.text
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Briefing:
        """The inverse of to_dict (alerts are queued as JSON in the store)."""
        published = data.get("published")
        return cls(
            title=data.get("title"),
            url=data.get("url"),
            published=date.fromisoformat(published) if published else None,
            summary=list(data.get("summary") or []),
            actors=[
                Actor(a["name"], a["kind"], a["mentions"], tuple(a.get("aliases") or ()))
                for a in data.get("actors") or []
            ],
            dates=[DateMention(d["text"], d["value"], d["start"], d["end"]) for d in data.get("dates") or []],
            truncated=bool(data.get("truncated")),
            summary_spans=[
                SummarySpan(s["start"], s["end"], s["paragraph"]) for s in data.get("summary_spans") or []
            ],
        )


@dataclass(frozen=True, slots=True)
class Source:
    """What a worker briefs: pasted text or an already fetched page (fetching stays on the event loop)."""

    text: str | None = None
    html: str | None = None
    url: str | None = None
    published: date | None = None  # given by the caller; wins over the date found in the page
