"""Offline docs preview (no Quarto needed): nbdev's notebook processing, then nbconvert to HTML; also README.md.

    python scripts/docs_preview.py [--out _preview] [--no-readme]

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
    "Tag cells whose source starts with `#| echo: false` so their input is dropped (Quarto's meaning)."
    for c in nb.cells:
        if c.cell_type == "code" and re.search(r"^#\|\s*echo:\s*false", c.source, re.M):
            c.metadata.setdefault("tags", []).append("hide-input")
            c.source = "\n".join(l for l in c.source.splitlines() if not l.startswith("#|"))
    return nb


def exporter(cls):
    ex = cls()
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
    html = exporter(HTMLExporter)
    pages = sorted(proc.glob("*.ipynb"))
    for p in pages:
        nb = tag_echo_false(nbformat.read(p, as_version=4))
        body, _ = html.from_notebook_node(nb)
        name = "index" if p.stem == "index" else re.sub(r"^\d+[a-z]?_", "", p.stem)
        (out / f"{name}.html").write_text(body)
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
