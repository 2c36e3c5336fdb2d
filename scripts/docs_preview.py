"""Offline docs preview (no Quarto needed): nbdev's notebook processing, then nbconvert to HTML; also README.md.

    python scripts/docs_preview.py [--out _preview] [--no-readme]

Each page gets what Quarto would give it: its title and description from the front matter (not the raw block), the
reading path of `nbs/sidebar.yml` as navigation, no `In[ ]`/`Out[ ]` prompts, and `show_doc`'s source links without
Quarto's `{target=...}` attributes. `scripts/check_docs.py` opens the pages in Chromium and checks them.

The real site is rendered by Quarto on GitHub Pages (.github/workflows/deploy.yaml). Here Quarto cannot be installed,
so this script runs the same nbdev processors (`nbdev.serve.proc_nbs`: hides `#| hide` cells, renders `show_doc`,
keeps outputs) into `_proc/`, converts every processed notebook to a standalone HTML page in `--out`, and turns
`index.ipynb` into `README.md` (+ `README_files/` for its pictures), as `nbdev_readme` would.
"""
import argparse, re, shutil
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter, MarkdownExporter
from nbconvert.preprocessors import TagRemovePreprocessor


def tag_echo_false(nb):
    "Tag cells with `#| echo: false` so their input is dropped, and drop every cell's `#|` lines (as Quarto does)."
    for c in nb.cells:
        if c.cell_type != "code": continue
        if re.search(r"^#\|\s*echo:\s*false", c.source, re.M): c.metadata.setdefault("tags", []).append("hide-input")
        c.source = "\n".join(l for l in c.source.splitlines() if not l.startswith("#|"))  # Quarto shows no directives
    return nb


def exporter(cls, **kw):
    ex = cls(**kw)
    ex.register_preprocessor(TagRemovePreprocessor(remove_input_tags={"hide-input"}), enabled=True)
    return ex


def readme_text(md: str, cfg) -> str:
    "README from the exported index: front matter -> title and summary; relative doc links -> the docs site."
    fm = re.match(r"^---\n(.*?)\n---\n", md, re.S)
    head = ""
    if fm:
        import yaml
        meta = yaml.safe_load(fm.group(1)) or {}
        head = f"# {meta.get('title', cfg.lib_name)}\n\n> {meta.get('description', '')}\n\n"
        md = md[fm.end():]
    site = f"{cfg.doc_host}{cfg.doc_baseurl}".rstrip("/")
    md = re.sub(r"\]\((?!https?:|#)([\w-]+\.html)", lambda m: f"]({site}/{m.group(1)}", md)
    return head + md.lstrip("\n").replace("\n\n\n", "\n\n")


def front_matter(nb) -> dict:
    "The page's front matter (title, description, output-file), taken out of its first raw cell."
    import yaml
    if nb.cells and nb.cells[0].cell_type == "raw" and (m := re.match(r"^---\n(.*?)\n---", nb.cells[0].source, re.S)):
        nb.cells.pop(0)
        return yaml.safe_load(m.group(1)) or {}
    return {}


def quarto_links(nb):
    "`[text](url){target=... style=...}` (Quarto's link attributes in show_doc output) -> an HTML link with them."
    def link(m):
        attrs = " ".join(f'{k}="{v}"' for k, v in re.findall(r'(\w+)="([^"]*)"', m.group(3)))
        return f'<a href="{m.group(2)}" {attrs}>{m.group(1)}</a>'
    for c in nb.cells:
        for o in c.get("outputs", []):
            md = o.get("data", {}).get("text/markdown")
            if md: o["data"]["text/markdown"] = re.sub(r"\[([^\]]*)\]\(([^)\s]*)\)\{([^}]*)\}", link, md)
    return nb


def reading_path(root: Path) -> list:
    "[(section or None, notebook file name)] from nbs/sidebar.yml, in order."
    import yaml
    items = []
    def walk(xs, section=None):
        for x in xs:
            if isinstance(x, str): items.append((section, x))
            else: walk(x.get("contents", []), x.get("section"))
    walk(yaml.safe_load((root / "nbs" / "sidebar.yml").read_text())["website"]["sidebar"]["contents"])
    return items


def page_name(nb_file: str) -> str: return "index" if Path(nb_file).stem == "index" else re.sub(r"^\d+[a-z]?_", "", Path(nb_file).stem)


def decorate(body: str, meta: dict, nav: str, site: str) -> str:
    "Title in <title> and at the top, the description under it, the navigation at the left."
    import html as H
    title, desc = H.escape(str(meta.get("title", ""))), H.escape(str(meta.get("description", "")))
    body = re.sub(r"<title>.*?</title>", f"<title>{title} – {site}</title>", body, count=1, flags=re.S)
    style = ("<style>#nav{position:fixed;top:0;left:0;bottom:0;width:220px;overflow-y:auto;padding:12px;background:#f6f7f9;"
             "font:14px sans-serif;border-right:1px solid #ddd}#nav a{display:block;padding:2px 0;color:#2a5db0;text-decoration:none}"
             "#nav a.here{font-weight:bold;color:#000}#nav .sec{margin-top:10px;color:#666;font-size:12px;text-transform:uppercase}"
             "body{margin-left:250px !important}#page-head h1{margin-bottom:4px}#page-head p{color:#555;font-size:1.1em}</style>")
    head = f'<div id="page-head" class="jp-Cell"><h1>{title}</h1><p>{desc}</p></div>' if title else ""
    body = body.replace("</head>", style + "</head>", 1)
    body = re.sub(r"<code>(.*?)</code>", lambda m: "<code>" + m.group(1).replace("\\|", "|") + "</code>", body, flags=re.S)  # pipe-table escapes
    return re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + nav + head, body, count=1)


def navigation(items: list, here: str, titles: dict, site: str) -> str:
    import html as H
    out, sec = [f'<nav id="nav"><a href="index.html"><b>{H.escape(site)}</b></a>'], None
    for section, f in items:
        if page_name(f) == "index": continue  # the site's name at the top links to it
        if section != sec and section: out.append(f'<div class="sec">{H.escape(section)}</div>')
        sec = section
        name = page_name(f)
        cls = ' class="here"' if name == here else ""
        out.append(f'<a href="{name}.html"{cls}>{H.escape(titles.get(name, name))}</a>')
    return "".join(out) + "</nav>"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="_preview")
    ap.add_argument("--no-readme", action="store_true")
    a = ap.parse_args()
    from nbdev.config import get_config
    from nbdev.serve import proc_nbs
    cfg = get_config()
    root = cfg.config_path
    proc = Path(proc_nbs(force=True, n_workers=0))
    out = root / a.out
    out.mkdir(exist_ok=True)
    html = exporter(HTMLExporter, exclude_input_prompt=True, exclude_output_prompt=True)
    items, pages = reading_path(root), sorted(proc.glob("*.ipynb"))
    missing = sorted({f for _, f in items} - {p.name for p in pages})
    if missing: raise SystemExit(f"nbs/sidebar.yml names notebooks that do not exist: {', '.join(missing)}")
    unlisted = sorted({p.name for p in pages} - {f for _, f in items})
    if unlisted: raise SystemExit(f"nbs/sidebar.yml does not list {', '.join(unlisted)}: add them to the reading path")
    nbs = {p.name: quarto_links(tag_echo_false(nbformat.read(p, as_version=4))) for p in pages}
    metas = {f: front_matter(nb) for f, nb in nbs.items()}
    titles = {page_name(f): m.get("title", page_name(f)) for f, m in metas.items()}
    for f, nb in nbs.items():
        body, _ = html.from_notebook_node(nb)
        name = page_name(f)
        (out / f"{name}.html").write_text(decorate(body, metas[f], navigation(items, name, titles, cfg.lib_name), cfg.lib_name))
        print("wrote", out / f"{name}.html")
    if not a.no_readme:
        nb = tag_echo_false(nbformat.read(proc / "index.ipynb", as_version=4))
        md, res = exporter(MarkdownExporter).from_notebook_node(nb, resources={"output_files_dir": "README_files"})
        shutil.rmtree(root / "README_files", ignore_errors=True)
        for name, data in res.get("outputs", {}).items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(data)
        (root / "README.md").write_text(readme_text(md, cfg))
        print("wrote", root / "README.md")


if __name__ == "__main__":
    main()
