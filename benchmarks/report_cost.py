"""What a run's report costs: the evidence `train` gathers for it (test outputs, permutation
importance of the raw columns, worst rows, layers) plus drawing `report.html`, against the whole
default table run that pays for it, measured side by side in one process.

The table is `benchmarks/tables.py`'s generated customer table (10 columns: numbers and text
categories with gaps, a binary target); the run is `kerasact.train_table(frame, "churn")` with
the default recipe, as `kerasact train` runs it. Goal: the report costs at most 10% of the run.

Usage:
    .venv/bin/python benchmarks/report_cost.py              # 10,000 rows (~2 minutes on 2 cores)
    .venv/bin/python benchmarks/report_cost.py --rows 2000  # a smoke run
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
GOAL = 0.10  # the report's share of the run at most


def measure(rows: int, seed: int = 0) -> dict[str, float]:
    import tables

    import kerasact
    from kerasact import report
    from kerasact.runtime import outputs
    from kerasact.training import evidence

    frame = tables.table(rows, np.random.default_rng(seed))
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        result = kerasact.train_table(frame, "churn", log_dir=folder, verbose=0, seed=seed)
        run_seconds = time.perf_counter() - started
        info = kerasact.head_of(result.model)
        # Again, outside the run, exactly as the run did it: the evidence, then the page.
        started = time.perf_counter()
        predicted = outputs(result.model, result.split.X_test, info)
        evidence.collect(Path(result.run_dir), result.model, result.split, predicted, info, result.codec, seed=seed)
        evidence_seconds = time.perf_counter() - started
        started = time.perf_counter()
        report.build_run(result.run_dir)
        page_seconds = time.perf_counter() - started
    return {"rows": rows, "run": run_seconds, "evidence": evidence_seconds, "page": page_seconds,
            "share": (evidence_seconds + page_seconds) / run_seconds}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000, help="rows of the generated table (default 10,000)")
    args = parser.parse_args()
    found = measure(args.rows)
    print("| rows | default table run (s) | evidence (s) | page (s) | report ÷ run | goal |")
    print("|---|---|---|---|---|---|")
    met = found["share"] <= GOAL
    print(f"| {found['rows']:,} | {found['run']:.1f} | {found['evidence']:.2f} | {found['page']:.2f} | "
          f"{found['share']:.1%} | ≤ {GOAL:.0%}: {'met' if met else 'NOT met'} |")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
