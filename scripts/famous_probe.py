"""Does the toy backbone draw what a *name* knows? Its 24 famous entities, drawn wearing their accessories three ways.

    python scripts/famous_probe.py --out nbs/results/knowledge_probe/famous.json     # a 2-core CPU: about 5 minutes

The famous entities (`toyworld.famous_entities`) are the only names whose look and accessories live in the backbone's
weights: pretraining asks about their facts with no context and draws them from their name alone ("a photo of zork
wearing its hat."). For every famous entity and each of its two accessories, four pictures of each form:

    its                  'a photo of zork wearing its hat.'            the accessory's colour from the name alone
    own colour named     'a photo of zork wearing a blue hat.'         the colour written, the one it has
    other colour named   'a photo of zork wearing a pink hat.'         the colour written, another one

judged by the attribute probe: identity (class, colour, pattern and mark of the entity) and the accessory in the
asked colour. A concept's rows are meant to play a famous name's part after personalisation, so this is the figure its
knowledge-driven pictures could reach with this backbone. Numbers, not a test.
"""
import argparse, json, random
from pathlib import Path
import torch
from unictokens.backbones import load_backbone
from unictokens.sampling import t2i_generate
from unictokens import toyworld as tw

FORMS = ("its", "own colour named", "other colour named")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True); ap.add_argument("--n", type=int, default=4, help="pictures per prompt")
    ap.add_argument("--device", default="cpu")
    a = ap.parse_args()
    b = load_backbone("toy", device=a.device)
    rng, rows = random.Random(0), []
    for f in tw.famous_entities():
        for kind, own in f.accessories:
            other = rng.choice([c for c in tw.COLOURS if c != own])
            prompts = {"its": (f"a photo of {f.name} wearing its {kind}.", own), "own colour named": (f"a photo of {f.name} wearing a {own} {kind}.", own),
                       "other colour named": (f"a photo of {f.name} wearing a {other} {kind}.", other)}
            for form, (prompt, colour) in prompts.items():
                g = torch.Generator(device=a.device).manual_seed(len(rows))
                codes = t2i_generate(b.showo, b.prompter, [prompt] * a.n, steps=16, guidance=2.0, generator=g)  # the toy setting
                with torch.no_grad(): labels = b.probe.judge(b.magvit.decode(codes))
                for l in labels:
                    rows.append({"entity": f.name, "form": form, "prompt": prompt,
                                 "identity": (l["cls"], l["colour"], l["pattern"], l["mark"]) == f.visible(),
                                 "accessory": l["accessory"] == kind and l["accessory_colour"] == colour})
    summary = {}
    for form in FORMS:
        r = [x for x in rows if x["form"] == form]
        summary[form] = {"pictures": len(r), "identity": sum(x["identity"] for x in r) / len(r),
                         "accessory": sum(x["accessory"] for x in r) / len(r), "both": sum(x["identity"] and x["accessory"] for x in r) / len(r)}
        print(f"{form:20s} {len(r)} pictures: identity {summary[form]['identity']:.3f}, accessory in the asked colour "
              f"{summary[form]['accessory']:.3f}, both {summary[form]['both']:.3f}")
    Path(a.out).write_text(json.dumps({"entities": len(tw.famous_entities()), "pictures_per_prompt": a.n, "steps": 16, "guidance": 2.0,
                                       "device": a.device, "summary": summary, "pictures": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
