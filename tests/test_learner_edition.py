"""The learner's edition: every course notebook lean, plain and visual, results first, closed for a study group.

The readers are learners of English as a second language. Limits per notebook (markdown, as written):
at most 3,000 words (the start page 800), sentences of 20 words on average and none over 40, few dashes and
semicolons, no idioms, and no words that belong to the making of the course rather than to the course.
``scripts/prose_stats.py`` prints the same figures (``--long 30`` lists the long sentences).
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COURSE = sorted((ROOT / "notebooks").glob("[01][0-9]_*.ipynb"))
ALL_COURSE = sorted((ROOT / "notebooks").glob("*.ipynb"))

_spec = importlib.util.spec_from_file_location("prose_stats", ROOT / "scripts" / "prose_stats.py")
prose_stats = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(prose_stats)

MAX_WORDS = {"00": 800}
DEFAULT_MAX_WORDS = 3000
MAX_MEAN_SENTENCE = 20.0
MAX_SENTENCE = 40
MAX_DASHES = 3
MAX_SEMICOLONS = 3
README_MAX_WORDS = 1200

#: Words about how the course was made, never about what it teaches.
PROJECT_WORDS = [
    r"\bthe bar\b(?! chart| plot| graph)",
    r"\b(two|three|these|its|our|this lesson's|this notebook's) bars\b",
    r"\bbars? (for|of) this (lesson|notebook|chapter)\b",
    r"\bissues?\b",
    r"\bsessions?\b(?<!study session)",
    r"\bwe aimed\b",
    r"\bother jobs\b",
    r"\bthe spec\b",
    r"\bshared the 2-core machine\b",
]

#: Idioms a second-language reader may not know; say the plain thing instead.
IDIOMS = [
    "earns its keep",
    "cuts both ways",
    "liar's dividend",
    "outvoted",
    "under the hood",
    "sweet spot",
    "rule of thumb",
    "at the end of the day",
    "in a nutshell",
    "boils down to",
    "bottom line",
    "kicks in",
    "on the fly",
    "for free",
    "the catch is",
    "silver bullet",
    "back of the envelope",
    "low-hanging fruit",
    "ballpark",
    "a grain of salt",
]

RESULT_MARK = "# The finished result"
TRAINING = re.compile(r"\btrain_\w+\(|\bfit\(|\.backward\(|\bopt\w*\.step\(")


def number(path: Path) -> str:
    return path.name[:2]


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def source(cell: dict) -> str:
    return "".join(cell["source"])


def markdown(path: Path) -> list[str]:
    return [source(c) for c in cells(path) if c["cell_type"] == "markdown"]


def plain_prose(md: str) -> str:
    """Markdown without code (fenced or inline), math, links' targets and HTML tags: the text a learner reads."""
    md = re.sub(r"```.*?```", " ", md, flags=re.S)
    md = re.sub(r"`[^`]*`", " ", md)
    md = re.sub(r"\$\$.*?\$\$", " ", md, flags=re.S)
    md = re.sub(r"\$[^$\n]+\$", " ", md)
    md = re.sub(r"\]\([^)]*\)", "]", md)
    md = re.sub(r"&#?\w+;", " ", md)  # HTML entities such as &nbsp;
    return re.sub(r"<[^>]+>", " ", md)


# ----------------------------------------------------------------------------------------------- the checks


def length_problems(path: Path) -> list[str]:
    s = prose_stats.stats(path)
    limit = MAX_WORDS.get(number(path), DEFAULT_MAX_WORDS)
    out = []
    if s["words"] > limit:
        out.append(f"{s['words']} words of markdown, more than {limit}: cut what a learner does not need")
    if s["mean"] > MAX_MEAN_SENTENCE:
        out.append(f"sentences of {s['mean']:.1f} words on average, more than {MAX_MEAN_SENTENCE:.0f}")
    long = [sent for md in markdown(path) for sent in prose_stats.sentences(md) if len(sent.split()) > MAX_SENTENCE]
    if long:
        out.append(f"{len(long)} sentence(s) over {MAX_SENTENCE} words, e.g. {long[0][:120]!r}")
    return out


def style_problems(texts: list[str]) -> list[str]:
    text = "\n".join(plain_prose(t) for t in texts)
    out = []
    if (n := text.count("—")) > MAX_DASHES:
        out.append(f"{n} em-dashes (at most {MAX_DASHES}): split the sentence instead")
    if (n := text.count(";")) > MAX_SEMICOLONS:
        out.append(f"{n} semicolons (at most {MAX_SEMICOLONS}): two sentences read more easily")
    lower = text.lower()
    out += [f"idiom {idiom!r}: say the plain thing" for idiom in IDIOMS if idiom in lower]
    for pattern in PROJECT_WORDS:
        if m := re.search(pattern, text, flags=re.I):
            near = text[max(m.start() - 40, 0) : m.end() + 40].replace("\n", " ")
            out.append(f"{m.group()!r} talks about making the course, not the course: ...{near}...")
    return out


def section(texts: list[str], heading: str) -> str | None:
    """The text of the markdown cell section that starts with `heading` (to the next ## heading)."""
    for t in texts:
        m = re.search(rf"^{re.escape(heading)}\s*$(.*?)(?=^## |\Z)", t, flags=re.M | re.S)
        if m:
            return m.group(1)
    return None


def closing_problems(path: Path) -> list[str]:
    texts = markdown(path)
    out = []
    recap = section(texts, "## Recap")
    try_this = section(texts, "## Try this")
    questions = section(texts, "## Questions for your study group")
    if recap is None:
        out.append("no '## Recap'")
    elif not 3 <= len(re.findall(r"^[*-] ", recap, flags=re.M)) <= 5:
        out.append("the recap should have 3 to 5 bullets")
    if try_this is None:
        out.append("no '## Try this'")
    elif len(re.findall(r"^\d+\. ", try_this, flags=re.M)) > 5:
        out.append("at most five 'Try this' items")
    if questions is None:
        out.append("no '## Questions for your study group'")
    else:
        asked = re.findall(r"^\d+\. ", questions, flags=re.M)
        answers = re.findall(r"<details>\s*<summary>[^<]*</summary>.+?</details>", questions, flags=re.S)
        if not 3 <= len(asked) <= 4:
            out.append(f"{len(asked)} study questions: ask 3 or 4")
        if len(answers) != len(asked):
            out.append(f"{len(asked)} questions but {len(answers)} folded answers (<details><summary>...)")
    last = cells(path)[-1]
    if last["cell_type"] != "markdown" or "## Questions for your study group" not in source(last):
        out.append("the last cell should hold the study-group questions")
    order = [next((i for i, t in enumerate(texts) if h in t), -1) for h in ("## Recap", "## Try this", "## Quest")]
    if -1 not in order and order != sorted(order):
        out.append("close in this order: Recap, Try this, Questions for your study group")
    return out


def result_first_problems(path: Path) -> list[str]:
    code = [source(c) for c in cells(path) if c["cell_type"] == "code"]
    at = next((i for i, s in enumerate(code) if s.lstrip().startswith(RESULT_MARK)), None)
    if at is None:
        return [f"no code cell starting with {RESULT_MARK!r}: show the finished result first"]
    out = []
    if at > 3:
        out.append(f"the finished result is code cell {at}: put it among the first four")
    trained = next((i for i, s in enumerate(code) if TRAINING.search(s)), len(code))
    if trained <= at:
        out.append(f"code cell {trained} trains before the finished result (cell {at}) is shown")
    if not re.search(r"\b(viz\.|plt\.|show_images|imshow)", code[at]):
        out.append("the finished-result cell draws nothing")
    if TRAINING.search(code[at]):
        out.append("the finished-result cell trains: load the shipped checkpoints instead")
    return out


def figure_problems(path: Path) -> list[str]:
    out = []
    for md in markdown(path):
        for ref in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", md):
            if not ref.startswith(("http://", "https://")) and not (path.parent / ref).is_file():
                out.append(f"the picture {ref} does not exist")
    return out


def readme_words(text: str) -> int:
    return len(text.split())


# ---------------------------------------------------------------------------------------------- the tests


@pytest.mark.parametrize("path", COURSE, ids=number)
def test_length_and_sentences(path):
    assert not length_problems(path), f"{path.name}: " + "; ".join(length_problems(path))


@pytest.mark.parametrize("path", ALL_COURSE, ids=lambda p: p.stem)
def test_plain_english_about_the_course(path):
    problems = style_problems(markdown(path))
    assert not problems, f"{path.name}: " + " | ".join(problems)


@pytest.mark.parametrize("path", ALL_COURSE, ids=lambda p: p.stem)
def test_closes_with_recap_try_this_and_study_questions(path):
    problems = closing_problems(path)
    assert not problems, f"{path.name}: " + "; ".join(problems)


@pytest.mark.parametrize("path", [p for p in COURSE if number(p) >= "04"], ids=number)
def test_finished_result_comes_first(path):
    problems = result_first_problems(path)
    assert not problems, f"{path.name}: " + "; ".join(problems)


@pytest.mark.parametrize("path", ALL_COURSE, ids=lambda p: p.stem)
def test_every_picture_exists(path):
    assert not figure_problems(path), f"{path.name}: " + "; ".join(figure_problems(path))


def test_readme_reads_in_five_minutes():
    words = readme_words((ROOT / "README.md").read_text())
    assert words <= README_MAX_WORDS, f"README.md has {words} words: at most {README_MAX_WORDS}"
    idioms = [i for i in IDIOMS if i in plain_prose((ROOT / "README.md").read_text()).lower()]
    assert not idioms, f"README.md: say the plain thing instead of {idioms}"


# ------------------------------------------------------------- each check must fail for a wrong notebook


def _notebook(tmp_path: Path, name: str, md: list[str], code: list[str] | None = None) -> Path:
    cs = [{"cell_type": "markdown", "metadata": {}, "source": m} for m in md]
    cs[1:1] = [{"cell_type": "code", "metadata": {}, "source": c, "outputs": []} for c in (code or [])]
    path = tmp_path / name
    path.write_text(json.dumps({"cells": cs, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


GOOD_CLOSE = [
    "## Recap\n\n* one\n* two\n* three",
    "## Try this\n\n1. a\n2. b",
    "## Questions for your study group\n\n"
    + "".join(f"{i}. Why?\n\n<details><summary>Answer</summary>\n\nBecause.\n\n</details>\n\n" for i in (1, 2, 3)),
]


def test_the_checks_catch_planted_faults(tmp_path):
    good = _notebook(tmp_path, "05_good.ipynb", ["# 05 · T\n\nShort and clear. It reads well.", *GOOD_CLOSE])
    assert length_problems(good) == [] and closing_problems(good) == []

    wordy = _notebook(tmp_path, "05_wordy.ipynb", [("Many " + " ".join(["words"] * 24) + ". ") * 4])
    assert any("on average" in p for p in length_problems(wordy))
    huge = _notebook(tmp_path, "00_huge.ipynb", ["Many words here. " * 300, *GOOD_CLOSE])
    assert any("more than 800" in p for p in length_problems(huge))
    run_on = _notebook(tmp_path, "05_runon.ipynb", [" ".join(["w"] * 45) + ".", *["Ok then now."] * 20, *GOOD_CLOSE])
    assert any("over 40" in p for p in length_problems(run_on))

    assert style_problems(["A — b — c — d — e."])
    assert style_problems(["a; b; c; d; e."])
    assert style_problems(["This trick earns its keep."])
    assert style_problems(["This notebook's two bars are met."])
    assert style_problems(["See the issue for details."])
    assert style_problems(["We aimed for 90 %."])
    assert not style_problems(["The bar chart shows it. A progress bar runs. `a; b; c; d; e`  $a;b;c;d;e$"])

    no_answers = _notebook(
        tmp_path,
        "05_noanswers.ipynb",
        [*GOOD_CLOSE[:2], "## Questions for your study group\n\n1. Why?\n2. How?\n3. What?"],
    )
    assert any("folded answers" in p for p in closing_problems(no_answers))
    many = _notebook(
        tmp_path,
        "05_many.ipynb",
        [GOOD_CLOSE[0], "## Try this\n\n" + "".join(f"{i}. x\n" for i in range(1, 8)), GOOD_CLOSE[2]],
    )
    assert any("five" in p for p in closing_problems(many))
    wrong_end = _notebook(tmp_path, "05_end.ipynb", [*GOOD_CLOSE, "## Try this\n\n1. more"])
    assert closing_problems(wrong_end)

    late = _notebook(
        tmp_path,
        "05_late.ipynb",
        ["# 05", *GOOD_CLOSE],
        ["import utils", "history = pix2pix.train_pix2pix(G, D, steps)", "# The finished result\nviz.show_images(x)"],
    )
    assert any("trains before" in p for p in result_first_problems(late))
    missing = _notebook(tmp_path, "05_missing.ipynb", ["# 05", *GOOD_CLOSE], ["import utils", "viz.show_images(x)"])
    assert result_first_problems(missing)
    ok = _notebook(
        tmp_path,
        "05_ok.ipynb",
        ["# 05", *GOOD_CLOSE],
        ["import utils", "# The finished result\nviz.show_images(x)", "loss.backward()"],
    )
    assert result_first_problems(ok) == []

    broken = _notebook(tmp_path, "05_pic.ipynb", ["![a unet](figures/nowhere.svg)", *GOOD_CLOSE])
    assert figure_problems(broken)
