"""Run one measurement in this process and write its result as JSON.

    python -m benchmarks.worker TASK PARAMS_JSON OUTPUT_FILE

with DJANGO_SETTINGS_MODULE (and DATABASE_URL, …) naming the site to measure.
`benchmarks.run` starts one worker per measurement and site, so that sites with
different settings are compared in one run.
"""

from __future__ import annotations

import importlib
import json
import sys


def main(argv: list[str]) -> int:
    task, params, output = argv
    import django

    django.setup()
    module = importlib.import_module(f"benchmarks.tasks.{task}")
    result = module.run(json.loads(params))
    with open(output, "w", encoding="utf-8") as file:
        json.dump(result, file)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
