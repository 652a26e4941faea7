#!/usr/bin/env python3
"""Markdown words and sentence lengths of course notebooks: what tests/test_learner_edition.py limits.

    python scripts/prose_stats.py notebooks/*.ipynb          # one line per notebook
    python scripts/prose_stats.py notebooks/05_pix2pix.ipynb --long 30   # and every sentence over 30 words

Words are the whitespace tokens of the markdown cells, as written (a formula counts by its own tokens).
Sentences end at . ! or ? before a capital letter, a formula, code or a parenthesis. Headings and table rows
are not sentences, nor are fragments under three words; <details> and <summary> tags are dropped.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path


def prose(src: str) -> str:
    """Markdown with each formula one token, images removed and links replaced by their text."""
    src = re.sub(r"\$\$.*?\$\$", " MATH ", src, flags=re.S)
    src = re.sub(r"\$[^$\n]+\$", "MATH", src)
    src = re.sub(r"!\[[^\]]*\]\([^)]*\)", " ", src)
    src = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", src)
    src = re.sub(r"</?(details|summary|br|b|i|em|strong|sub|sup)>", " ", src)
    return src


def sentences(src: str) -> list[str]:
    """The sentences of one markdown cell (headings, table rows and fragments under 3 words left out)."""
    text = prose(src)
    lines = [line for line in text.splitlines() if not line.lstrip().startswith(("#", "|"))]
    text = " ".join(re.sub(r"^\s*(\*|-|\d+\.)\s+", "", line) for line in lines)
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z*`(\"$])", text)
    return [p for p in parts if len(p.split()) >= 3]


def markdown_cells(path: Path) -> list[str]:
    return ["".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "markdown"]


def stats(path: Path) -> dict:
    """Words, sentences and the mean and longest sentence of a notebook's markdown."""
    cells = markdown_cells(path)
    lengths = [len(s.split()) for c in cells for s in sentences(c)]
    return {
        "words": sum(len(c.split()) for c in cells),
        "sentences": len(lengths),
        "mean": sum(lengths) / max(len(lengths), 1),
        "longest": max(lengths, default=0),
        "over_40": sum(n > 40 for n in lengths),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--long", type=int, default=0, help="also print every sentence longer than this")
    args = parser.parse_args()
    for path in args.notebooks:
        s = stats(path)
        print(
            f"{path.name}: {s['words']} words, {s['sentences']} sentences, mean {s['mean']:.1f} words, "
            f"longest {s['longest']}, {s['over_40']} over 40"
        )
        if args.long:
            for c in markdown_cells(path):
                for sent in sentences(c):
                    if len(sent.split()) > args.long:
                        print(f"  [{len(sent.split())}] {sent}")


if __name__ == "__main__":
    main()
