#!/usr/bin/env python3
"""One real Triton Inference Server (through PyTriton, on CPU) serving a model of known compute time.

The command users run; the code lives in ``tests/support/triton_server.py`` (the test-support package), so that
tests import it without reaching into scripts/.  Same arguments as there.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.support.triton_server import main  # noqa: E402 - after the repository root is on the path

if __name__ == "__main__":
    sys.exit(main())
