"""Scores `briefbot batch` output on the dev sets.

One command: `.venv-bench/bin/python bench/quality/run.py`.
"""
