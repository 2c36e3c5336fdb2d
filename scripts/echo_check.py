"""How often trained concepts begin an answer with their own token, and what their answers score when they cannot emit it.

    python scripts/echo_check.py --world out/sweep/world --runs out/sweep/e3_lr0.03/runs/seed_0 --concepts hana,dov,ivo

For each concept, the stage-3 concept file of `RUNS/CONCEPT/ours` answers the concept's VQA and text-only test items
twice: as trained, and with the lm_head bias of every concept row set to -1e4, so that no concept token can be the next
token (a diagnostic copy written to a temporary folder; the run is untouched). It prints, per version, how many answers
begin with a concept token and the toy judge's mean. Use it on held-out concepts (the sweep's seed-1 world), never to
choose anything on UnifyBench's test files. Numbers, not a test.
"""
import argparse, shutil, tempfile
from pathlib import Path
import torch
from unictokens.backbones import load_backbone, toy_answer_score
from unictokens.bench import BenchConfig, System, _items, answers_of
from unictokens.concepts import ConceptTokens
from unictokens.data import UniCTokensData


def silenced(folder: Path, into: Path) -> Path:
    "A copy of the concept in `folder` whose rows can never be predicted (lm_head bias -1e4)."
    ct = ConceptTokens.load(folder)
    with torch.no_grad():
        for g in ct.rows.sizes: ct.rows.lm_bias[g].fill_(-1e4)
    ct.save(into)
    return into


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--world", required=True, help="the data root the concepts were trained from")
    ap.add_argument("--runs", required=True, help="folder with CONCEPT/ours/stage3 (a run_bench runs/seed_S folder)")
    ap.add_argument("--concepts", required=True, help="comma list")
    ap.add_argument("--backbone", default="toy"); ap.add_argument("--device", default="cpu")
    a = ap.parse_args()
    b, data, cfg = load_backbone(a.backbone, device=a.device), UniCTokensData(a.world), BenchConfig.tiny()
    totals = {"as trained": [0, 0, 0.0], "concept tokens barred": [0, 0, 0.0]}
    tmp = Path(tempfile.mkdtemp())
    for c in a.concepts.split(","):
        folder = Path(a.runs) / c / "ours" / "stage3"
        if not (folder / "concept.json").is_file(): raise SystemExit(f"{folder}: no concept file (concept.json); check --runs")
        td = data.derive_test_data(c)
        items = _items(td, "vqa") + _items(td, "text_only")
        for name, f in (("as trained", folder), ("concept tokens barred", silenced(folder, tmp / c))):
            answers, _ = answers_of(b, c, data.info(c), System(name, [f], [f]), items, cfg)
            for (_, _, gold), ans in zip(items, answers):
                t = totals[name]; t[0] += 1; t[1] += ans.startswith("<"); t[2] += toy_answer_score(ans, gold)
    shutil.rmtree(tmp, ignore_errors=True)
    for name, (n, echo, score) in totals.items():
        print(f"{name:22s} answers beginning with a concept token: {echo} of {n}; judge {score / max(n, 1):.3f}")


if __name__ == "__main__":
    main()
