"The browser check of the docs finds what a reader would trip over (scripts/check_docs.py, on DOMs as Chromium returns them)."
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
    return m


def test_clean_page_passes_and_every_fault_is_named(tmp_path):
    cd = _script("check_docs")
    (tmp_path / "a.png").write_bytes(b"\x89PNG" + b"0" * 40)
    good = ('<html><head><title>t</title></head><body><nav id="nav"><a href="b.html">b</a></nav><h2 id="x">X</h2>'
            '<p>text with <b>bold</b></p><pre><code>y = {**d}\nprint(a | b)</code></pre><img src="a.png"></body></html>')
    pages = {"a.html": {"x"}, "b.html": set()}
    assert cd.check(tmp_path / "a.html", good, pages, need_nav=True) == []
    bad = ('<html><body><p>---</p><p>title: T</p><p>[source](u){target="_blank"} &lt;br&gt; **b**</p><div>Out[3]:</div>'
           '<a href="c.html">c</a><a href="b.html#nowhere">d</a><img src="gone.png"><pre>Traceback (most recent call last)</pre>'
           '<pre>#| export</pre></body></html>')
    found = " | ".join(cd.check(tmp_path / "a.html", bad, pages, need_nav=True))
    for what in ("no navigation", "traceback", "missing picture gone.png", "no page c.html", "no anchor #nowhere",
                 "raw front matter", "Quarto link attributes", "literal <br>", "unrendered bold", "In/Out prompt", "nbdev directive"):
        assert what in found, what
    assert cd.check(tmp_path / "a.html", "", pages, need_nav=True) == ["the page did not load in Chromium"]


def test_preview_turns_quarto_markup_into_html():
    dp = _script("docs_preview")
    import nbformat
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_raw_cell("---\ntitle: Vocabulary\ndescription: ids\n---\n\n"),
                                         nbformat.v4.new_code_cell("#| echo: false\n#| output: asis\nshow_doc(f)")])
    nb.cells[1].outputs = [nbformat.v4.new_output("execute_result", {"text/markdown": '[source](https://x/y.py#L3){target="_blank" style="float:right"}'})]
    assert dp.front_matter(nb) == {"title": "Vocabulary", "description": "ids"} and nb.cells[0].cell_type == "code"
    md = dp.quarto_links(dp.tag_echo_false(nb)).cells[0].outputs[0]["data"]["text/markdown"]
    assert md == '<a href="https://x/y.py#L3" target="_blank" style="float:right">source</a>'
    assert nb.cells[0].source == "show_doc(f)" and "hide-input" in nb.cells[0].metadata["tags"]
