"""The course's machinery, apart from the lessons: exercise checks, widgets, the machine check, checkpoints.

``checks`` (one module per lesson, one shared driver), ``widgets`` (one per file), ``environment`` (is this machine
ready? notebook 00) and ``checkpoints`` (the shipped weights, verified by SHA-256). Import what you need:
``from utils.course import checks``.
"""
