"""`python -m benchmarks`: see benchmarks/run.py."""

import sys

from benchmarks.run import exit_cleanly_on_sigterm, main

exit_cleanly_on_sigterm()
sys.exit(main())
