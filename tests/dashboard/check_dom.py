"""Checks a dashboard page and the DOM Chromium built from it (``--dump-dom``).

    check_dom.py PAGE.html DOM.html

Every chart the dashboard draws must be in the DOM, once, with data marks: bars and
cells (``rect`` not filled white: plotters' background is), points (``circle``),
areas (``polygon``) and series lines (``polyline`` at least 2 px wide: the grid's lines
are 1 px), plus some text. Every section must hold its chart (the demo's shop has data
for all of them). The page as written must fetch nothing: no ``src``/``href`` and no URL
but the SVG namespace. Exit status 1 with the reasons, 0 with one line per chart.
"""

from html.parser import HTMLParser
import re
import sys

CHARTS = [
    "revenue", "customers", "cohorts", "tiers", "tier-moves", "liability", "expiring",
    "campaigns", "complaints", "top-customers",
]
ALLOWED_URL = "http://www.w3.org/2000/svg"


class Charts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.marks: dict[str, int] = {}
        self.texts: dict[str, int] = {}
        self.sections: dict[str, list[str]] = {}
        self.section: str | None = None
        self.current: str | None = None
        self.depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "section" and "data-section" in a:
            self.section = a["data-section"]
            self.sections[self.section] = []
        if tag == "figure" and "data-chart" in a:
            name = a["data-chart"]
            if name in self.marks:
                self.marks[name] = -1000  # twice: fails below
            else:
                self.marks[name] = 0
                self.texts[name] = 0
            self.current, self.depth = name, 0
            if self.section is not None:
                self.sections[self.section].append(name)
        if self.current is None:
            return
        if tag == "figure":
            self.depth += 1
        if is_mark(tag, a):
            self.marks[self.current] += 1
        if tag == "text":
            self.texts[self.current] += 1

    def handle_endtag(self, tag: str) -> None:
        if self.current is not None and tag == "figure":
            self.depth -= 1
            if self.depth == 0:
                self.current = None


def is_mark(tag: str, a: dict[str, str]) -> bool:
    if tag == "rect":
        return a.get("fill", "").upper() not in ("#FFFFFF", "WHITE", "NONE", "")
    if tag in ("circle", "polygon"):
        return True
    if tag == "polyline":
        try:
            return float(a.get("stroke-width", "1")) >= 2
        except ValueError:
            return False
    return False


def main() -> int:
    page_path, dom_path = sys.argv[1], sys.argv[2]
    page = open(page_path, encoding="utf-8").read()
    dom = open(dom_path, encoding="utf-8").read()
    problems = []
    urls = set(re.findall(r"[a-z]+://[^\s\"'<>)]+", page)) - {ALLOWED_URL}
    if urls:
        problems.append(f"the page names URLs: {sorted(urls)[:5]}")
    if re.search(r"<(script|link|img|iframe)\b", page, re.I):
        problems.append("the page has a script, link, img or iframe element")
    if re.search(r"\s(src|href)\s*=", page, re.I):
        problems.append("the page has a src or href attribute")
    parsed = Charts()
    parsed.feed(dom)
    for name in CHARTS:
        marks = parsed.marks.get(name)
        if marks is None:
            problems.append(f"chart {name!r} is missing")
        elif marks < 0:
            problems.append(f"chart {name!r} is drawn twice")
        elif marks == 0:
            problems.append(f"chart {name!r} has no data marks")
        elif parsed.texts.get(name, 0) == 0:
            problems.append(f"chart {name!r} has no text")
        else:
            print(f"{page_path}: {name}: {marks} marks, {parsed.texts[name]} texts")
    for section, charts in parsed.sections.items():
        if not charts:
            problems.append(f"section {section!r} has no chart")
    for problem in problems:
        print(f"{page_path}: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
