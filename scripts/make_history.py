#!/usr/bin/env python3
"""Synthetic Triton history for ``custom-metrics-adapter replay``, as OpenMetrics for backfilling.

The command users run; the code lives in ``tests/support/make_history.py`` (the test-support package), so that
tests import it without reaching into scripts/.  Same arguments as there.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.support.make_history import main  # noqa: E402 - after the repository root is on the path

if __name__ == "__main__":
    sys.exit(main())
