"""Open every docs page in a real browser (headless Chromium) and check what a reader would see.

    python scripts/check_docs.py [--out _preview] [--shots _preview/shots] [--no-build] [--report out/demo/report.html ...]

Builds the offline preview (`scripts/docs_preview.py`) unless `--no-build`, then for every page, and for every
`report.html` given with `--report` (what `unictokens demo` and `unictokens eval` write):

- loads it in Chromium (`--dump-dom`: the page as the browser built it) and saves a screenshot into `--shots`;
- fails on a page that does not load, a notebook error output (a traceback), a picture whose file is missing or
  empty, a link to a page or anchor that does not exist, and markup that leaks into the visible text: raw front
  matter, Quarto's `{target=...}` attributes, `In [ ]`/`Out[ ]` prompts, nbdev directives (`#| ...`), a literal
  `<br>`, escaped table pipes (`\\|`) and unrendered `**bold**`;
- prints one line per page and a summary; exits 1 when anything failed.

Debian's `chromium` package provides the browser (`apt-get install chromium`); the script says so if it is missing.
"""
import argparse, base64, re, shutil, subprocess, sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

LEAKS = {"raw front matter": re.compile(r"^---\s*$\s*^(title|description|output-file):", re.M),
         "Quarto link attributes": re.compile(r"\{target=|\{\.[\w-]+"),
         "In/Out prompt": re.compile(r"^\s*(In|Out)\s*\[[\s\d]*\]:", re.M),
         "nbdev directive": re.compile(r"^\s*#\|\s*\w", re.M),
         "literal <br>": re.compile(r"<br\s*/?>", re.I),
         "escaped table pipe": re.compile(r"\\\|"),
         "unrendered bold": re.compile(r"\*\*\w[^*\n]{0,60}\*\*")}


class Page(HTMLParser):
    "What a reader sees of a page: its visible text, pictures, links, anchors, and navigation."
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text, self.code, self.images, self.links, self.ids, self.nav = [], [], [], [], set(), False
        self._skip = self._code = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"): self.ids.add(a["id"])
        if a.get("name"): self.ids.add(a["name"])
        if tag in ("script", "style", "head"): self._skip += 1
        if tag in ("pre", "code"): self._code += 1
        if tag == "img": self.images.append(a.get("src") or "")
        if tag == "a" and a.get("href"): self.links.append(a["href"])
        if tag == "nav" and a.get("id") == "nav": self.nav = True
        if tag in ("p", "div", "br", "tr", "li", "h1", "h2", "h3", "pre", "td", "th"): self.text.append("\n"); self.code.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "head"): self._skip = max(0, self._skip - 1)
        if tag in ("pre", "code"): self._code = max(0, self._code - 1)
        if tag in ("p", "div", "tr", "li", "pre"): self.text.append("\n"); self.code.append("\n")

    def handle_data(self, data):
        if not self._skip: (self.code if self._code else self.text).append(data)


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name): return name
    raise SystemExit("check_docs: no Chromium found; install Debian's package (apt-get install chromium) and run again")


def browse(browser: str, page: Path, shot: Path) -> str:
    "The DOM Chromium builds for `page` (empty when it fails to load); saves a screenshot to `shot`."
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--virtual-time-budget=8000"]
    url = page.resolve().as_uri()
    dom = subprocess.run(flags + ["--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
    subprocess.run(flags + ["--window-size=1300,2000", f"--screenshot={shot}", url], capture_output=True, timeout=120)
    return dom


def check(page: Path, dom: str, pages: dict, need_nav: bool) -> list:
    "The problems a reader would meet on `page` (whose browser DOM is `dom`); `pages` maps file names to their anchors."
    if "<body" not in dom: return ["the page did not load in Chromium"]
    p = Page(); p.feed(dom)
    text, code, bad = "".join(p.text), "".join(p.code), []
    if need_nav and not p.nav: bad.append("no navigation between pages")
    if "Traceback (most recent call last)" in text + code: bad.append("an error output (traceback)")
    for src in p.images:
        if src.startswith("data:"):
            if len(base64.b64decode(src.split(",", 1)[1] + "==", validate=False)) < 20: bad.append("an empty inline picture")
        elif not urlparse(src).scheme:
            f = page.parent / unquote(src)
            if not f.is_file() or f.stat().st_size == 0: bad.append(f"missing picture {src}")
    for href in p.links:
        u = urlparse(href)
        if u.scheme or href.startswith("mailto:"): continue
        target = unquote(u.path) or page.name
        if target.endswith(".html") or not u.path:
            if target not in pages: bad.append(f"broken link {href} (no page {target})"); continue
            if u.fragment and u.fragment not in pages[target]: bad.append(f"broken link {href} (no anchor #{u.fragment})")
        elif not (page.parent / target).exists(): bad.append(f"broken link {href}")
    for what, rx in LEAKS.items():
        seen = text + code if what in ("nbdev directive", "escaped table pipe", "raw front matter") else text  # code may hold ** and {.x}
        m = rx.search(seen)
        if m: bad.append(f"{what} shows as text: {seen[max(0, m.start() - 30):m.end() + 30].strip()!r}")
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="_preview", help="the preview folder (built there unless --no-build)")
    ap.add_argument("--shots", default=None, help="screenshots folder (default OUT/shots)")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--report", action="append", default=[], help="a report.html to check the same way (repeatable)")
    a = ap.parse_args()
    browser, root = chromium(), Path(__file__).resolve().parent.parent
    out = (root / a.out) if not Path(a.out).is_absolute() else Path(a.out)
    if not a.no_build:
        r = subprocess.run([sys.executable, str(root / "scripts" / "docs_preview.py"), "--out", str(out), "--no-readme"], cwd=root)
        if r.returncode: raise SystemExit(f"check_docs: building the preview failed (exit {r.returncode})")
    shots = Path(a.shots) if a.shots else out / "shots"
    shots.mkdir(parents=True, exist_ok=True)
    files = sorted(out.glob("*.html"))
    if not files: raise SystemExit(f"check_docs: no pages in {out}; build the preview first (drop --no-build)")
    doms = {f.name: browse(browser, f, shots / f"{f.stem}.png") for f in files}
    anchors = {}
    for name, dom in doms.items():
        p = Page(); p.feed(dom); anchors[name] = p.ids
    failed = 0
    for f in files:
        bad = check(f, doms[f.name], anchors, need_nav=True)
        failed += bool(bad)
        print(f"{'FAIL' if bad else 'ok  '} {f.name}" + "".join(f"\n       {b}" for b in bad))
    for rep in map(Path, a.report):
        if not rep.is_file(): print(f"FAIL {rep}: no such report"); failed += 1; continue
        dom = browse(browser, rep, shots / f"report-{rep.parent.name}.png")
        p = Page(); p.feed(dom)
        bad = check(rep, dom, {rep.name: p.ids}, need_nav=False)
        failed += bool(bad)
        print(f"{'FAIL' if bad else 'ok  '} {rep}" + "".join(f"\n       {b}" for b in bad))
    n = len(files) + len(a.report)
    print(f"{n - failed} of {n} pages pass; screenshots in {shots}")
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
