#!/usr/bin/env python3
"""Bounded load generator for a Triton model over the KServe v2 HTTP/JSON protocol.

The command users run; the code lives in ``tests/support/triton_load.py`` (the test-support package), so that
tests import it without reaching into scripts/.  Same arguments as there.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.support.triton_load import main  # noqa: E402 - after the repository root is on the path

if __name__ == "__main__":
    sys.exit(main())
