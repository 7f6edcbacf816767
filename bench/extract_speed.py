"""Benchmark: ``defwatch extract`` against bare spaCy ``nlp.pipe`` (full en_core_web_sm) on the same texts.

(a) articles that all report defections (target >= 1.0x: only the paragraphs with cues are parsed);
(b) a realistic stream where a few percent of articles mention defections (target >= 25x: the
    pre-filter keeps the rest away from spaCy).

    python bench/extract_speed.py --shared ../shared [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import spacy

from extractors import Article, Deduplicator, Extractor
from extractors.pipeline import resolve_model_name
from streams.stages import process


def load(path: Path) -> list[Article]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            out.append(Article.model_validate({k: v for k, v in row.items() if k != "events"}))
    return out


def time_defwatch(extractor: Extractor, articles: list[Article]) -> float:
    t = time.perf_counter()
    for _ in process(extractor, Deduplicator(), articles):
        pass
    return time.perf_counter() - t


def time_spacy(nlp: spacy.language.Language, articles: list[Article]) -> float:
    t = time.perf_counter()
    for _ in nlp.pipe((a.text for a in articles), batch_size=32):
        pass
    return time.perf_counter() - t


def best(fn, *args, repeat: int) -> float:  # type: ignore[no-untyped-def]
    return min(fn(*args) for _ in range(repeat))


def report(n: int, ours: float, bare: float, target: float) -> None:
    print(f"    defwatch extract {ours:.2f}s ({n / ours:.1f} art/s)   spaCy nlp.pipe {bare:.2f}s ({n / bare:.1f} art/s)"
          f"   ratio {bare / ours:.2f}x (target >= {target:g}x)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default="../shared", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--defection-share", type=float, default=0.03, help="share of defection articles in (b)")
    a = ap.parse_args()
    corpus = a.shared / "corpus"
    gold = [json.loads(x) for f in ("seeds.jsonl", "dev.jsonl")
            for x in (corpus / f).read_text(encoding="utf-8").splitlines() if x.strip()]
    defection_ids = {g["id"] for g in gold if any(e["status"] == "reported" for e in g["events"])}
    all_gold = load(corpus / "seeds.jsonl") + load(corpus / "dev.jsonl")
    defection = [x for x in all_gold if x.id in defection_ids]
    background = load(corpus / "background.jsonl")
    rng = random.Random(7)
    n_def = max(1, round(len(background) * 2 * a.defection_share / (1 - a.defection_share)))
    stream = background * 2 + rng.sample(defection * 3, min(n_def, len(defection) * 3))
    rng.shuffle(stream)

    extractor = Extractor()
    nlp = spacy.load(resolve_model_name())
    # warm up both pipelines
    time_defwatch(extractor, defection[:5])
    time_spacy(nlp, defection[:5])

    print(f"(a) {len(defection)} defection articles, best of {a.repeat}")
    ta_dw = best(time_defwatch, extractor, defection, repeat=a.repeat)
    ta_sp = best(time_spacy, nlp, defection, repeat=a.repeat)
    report(len(defection), ta_dw, ta_sp, 1.0)
    share = sum(1 for x in stream if x.id in defection_ids) / len(stream)
    print(f"(b) {len(stream)} articles, {share:.1%} about defections, best of {a.repeat}")
    tb_dw = best(time_defwatch, extractor, stream, repeat=a.repeat)
    tb_sp = best(time_spacy, nlp, stream, repeat=a.repeat)
    report(len(stream), tb_dw, tb_sp, 25.0)


if __name__ == "__main__":
    main()
