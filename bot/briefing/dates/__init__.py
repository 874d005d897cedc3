"""Key dates: the dates an article speaks of, as ISO 8601 values at their real granularity.

A year "2021", a month "2021-01", an ISO week "2021-W36" or a day "2021-09-09". Relative forms ("last
October", "next week", "Friday", "two years ago", "by year-end", "on Thanksgiving") are resolved against the
publication date; where the calendar alone can't decide ("in June", "Friday", "September 9" without a year)
the tense of the surrounding words picks the past or the future occurrence. What fits none of the four
forms (durations, quarters, seasons, decades, "recently", "the 8th") is skipped.

- finder.py: where the dates are (spaCy's entities, missed weekdays, anaphora, furniture), the entry point
- rules.py: the patterns and what each resolves to
- tense.py: past or future from the words around a date, and the candidate that tense picks
- holidays.py: "on Thanksgiving", "last Christmas"
- arithmetic.py: calendar arithmetic (shifts by a unit, valid days, the calendar's ends)
"""

from bot.briefing.dates.finder import find_dates, stamped_publication

__all__ = ["find_dates", "stamped_publication"]
