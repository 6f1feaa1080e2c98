"""Synthetic filled scans of the inscription form, with ground truth, for tests and benchmarks.

`generate(n, seed, out)` is the one entry point; the modules each do one job:
people (who), handwriting/digits/fonts (ink for text), marks (box marks),
fill (one form on paper), other (letters, cheques, blank backs), scan (the
device), containers (files), generate (the plan and the truth files).
"""

from pipeline.synth.generate import generate

__all__ = ["generate"]
