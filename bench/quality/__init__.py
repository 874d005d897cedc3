"""Scores `briefbot batch` output on the dev sets; one command: `.venv/bin/python bench/quality/run.py`."""
