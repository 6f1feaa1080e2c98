"""Build `codes-postaux.csv.gz`, France's postcodes and the communes they serve.

The source is the `codes-postaux` package of the Base Adresse Nationale (MIT;
made by Etalab from INSEE's Code officiel géographique and the DGFiP's FIMOCT),
as published on the npm registry. Every commune with each of its postcodes:
35,683 pairs, 265 KB compressed. Rebuild, from the package's tarball:

    curl -sO https://registry.npmjs.org/codes-postaux/-/codes-postaux-4.1.2.tgz
    python -m pipeline.trust.postcode_table codes-postaux-4.1.2.tgz

A routing name ("libellé d'acheminement") that is not the commune's name
folded is kept as a second name: it is what envelopes say.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
import tarfile
from pathlib import Path

from pipeline.trust.lexicon import fold_key

TABLE = Path(__file__).with_name("codes-postaux.csv.gz")
MEMBER = "package/codes-postaux.json"


def build(tarball: Path, dest: Path = TABLE) -> int:
    """Write the table from the npm tarball; returns the number of rows."""
    with tarfile.open(tarball) as tar:
        member = tar.extractfile(MEMBER)
        if member is None:
            raise SystemExit(f"{tarball}: no {MEMBER} in it")
        records = json.load(member)
    rows = sorted({
        (r["codePostal"], r["nomCommune"],
         "" if fold_key(r["libelleAcheminement"]) == fold_key(r["nomCommune"])
         else r["libelleAcheminement"])
        for r in records
    })
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(("code_postal", "commune", "acheminement"))
    w.writerows(rows)
    # mtime=0: the same tarball gives the same bytes
    dest.write_bytes(gzip.compress(out.getvalue().encode("utf-8"), 9, mtime=0))
    return len(rows)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m pipeline.trust.postcode_table codes-postaux-X.Y.Z.tgz")
    print(f"{build(Path(sys.argv[1]))} rows written to {TABLE}")
