"""Run measurements in this process, for `benchmarks.run`, with
DJANGO_SETTINGS_MODULE (and DATABASE_URL, …) naming the site to measure.

    python -m benchmarks.worker TASK PARAMS_JSON OUTPUT_FILE

runs `benchmarks.tasks.<TASK>.run(params)` and writes its result as JSON.

    python -m benchmarks.worker --serve TASK PARAMS_JSON

prepares `benchmarks.tasks.<TASK>.actions(params)`, prints `ready`, then runs
one action per name read from standard input and prints the seconds it took
("NAME COUNT": the mean of COUNT calls in a row).
`benchmarks.run` drives two such workers (two sites) in turns, so that both
sides of a comparison are measured under the same load.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time


def _task(name: str):
    import django

    django.setup()
    return importlib.import_module(f"benchmarks.tasks.{name}")


def run(task: str, params: str, output: str) -> int:
    result = _task(task).run(json.loads(params))
    with open(output, "w", encoding="utf-8") as file:
        json.dump(result, file)
    return 0


def serve(task: str, params: str) -> int:
    # Standard output carries the answers; anything printed goes to stderr.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    actions = _task(task).actions(json.loads(params))
    answers.write("ready\n")
    for line in sys.stdin:
        # "NAME" or "NAME COUNT": COUNT calls in a row, the mean of them.
        name, _, count = line.strip().partition(" ")
        action, times = actions[name], int(count or 1)
        started = time.perf_counter()
        for _ in range(times):
            action()
        answers.write(f"{(time.perf_counter() - started) / times!r}\n")
    return 0


def main(argv: list[str]) -> int:
    if argv[0] == "--serve":
        return serve(*argv[1:])
    return run(*argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
