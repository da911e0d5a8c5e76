#!/usr/bin/env python3
"""The command users run; the code lives in ``tests/support/what_if_crosscheck.py`` (the test-support package), so that
tests import it without reaching into scripts/.  Same arguments as there (``--help``)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.support.what_if_crosscheck import main  # noqa: E402 - after the repository root is on the path

if __name__ == "__main__":
    sys.exit(main())
