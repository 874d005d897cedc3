"""Key dates: the dates an article speaks of (finder.py)."""

from bot.briefing.dates.finder import find_dates, stamped_publication

__all__ = ["find_dates", "stamped_publication"]
