"""Encode texts.toml into the sample files samples.tsv lists (run from this folder)."""

import tomllib
from pathlib import Path

HERE = Path(__file__).parent
texts = tomllib.loads((HERE / "texts.toml").read_text(encoding="utf-8"))
for line in (HERE / "samples.tsv").read_text(encoding="utf-8").splitlines():
    if not line.strip() or line.startswith("#"):
        continue
    name, key, charset, _label = line.split("\t")
    (HERE / name).write_bytes(texts[key]["text"].encode(charset))
