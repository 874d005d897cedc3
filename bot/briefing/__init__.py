"""The briefing pipeline: one article (page or pasted text) in, one Briefing out.

Pure, blocking work that runs inside the worker processes (bot.worker_process is the only way in from the
bot): it never imports asyncio, aiohttp or any chat SDK (tests/test_imports.py checks). Importing this
package loads nothing; each module loads what it needs.
"""
