"""Re-run notebooks and keep their outputs (the pictures the docs show), skipping what nbdev_test skips.

    python scripts/run_notebooks.py [nbs/02_magvit.ipynb ...]     # default: every notebook in nbs/

Cells marked `#| eval: false` (downloads, real weights) keep the outputs they have; cells marked with a flag from
settings.ini's tst_flags (`slow`, `gpu`, ...) are skipped unless `--flags` names them. Then run `nbdev_clean`.
"""
import argparse, os
from pathlib import Path

from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell
from fastcore.xtras import working_directory
from nbdev.config import get_config
from nbdev.process import NBProcessor


def skipped(cell, flags: set = frozenset()) -> bool:
    "Whether `nbdev_test` skips this cell of a processed notebook (`flags`: test flags to run anyway, e.g. {'slow'})."
    if cell.cell_type != "code" or "nbdev_export(" in cell.source: return True
    d = getattr(cell, "directives_", {}) or {}
    if d.get("eval:", [""])[0].lower() == "false": return True
    return bool(set(get_config().get("tst_flags", "").split()) - set(flags) & d.keys())


def run(path: Path, flags: set):
    nb = NBProcessor(path, process=True).nb  # parses `#|` directives into cell.directives_
    skip = lambda cell: skipped(cell, flags)

    raw = read_nb(path)
    with working_directory(path.parent):
        CaptureShell(path).run_all(nb, exc_stop=True, preproc=skip)
    for cell, new in zip(raw.cells, nb.cells):  # keep the unprocessed sources, take the fresh outputs
        if cell.cell_type == "code" and not skip(new): cell.outputs = new.outputs
    write_nb(raw, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*")
    ap.add_argument("--flags", nargs="*", default=[], help="also run cells with these flags (e.g. slow)")
    a = ap.parse_args()
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    paths = [Path(p) for p in a.notebooks] or sorted(p for p in Path("nbs").rglob("*.ipynb") if not p.name.startswith("_"))
    for p in paths:
        print("running", p, flush=True)
        run(p, set(a.flags))


if __name__ == "__main__":
    main()
