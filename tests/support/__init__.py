"""Test support for custom-metrics-adapter: the stand-ins, fixtures and stacks the tests share.

Import as ``from tests.support import e2e_stack`` with the repository root on ``sys.path`` (``python3 -m
unittest tests/...`` from the root does that).  The stand-ins run as modules from the repository root:
``python3 -m tests.support.kube_standin ...``; ``module_argv`` builds that command.  Standard library only.
"""

import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def module_argv(name, python=None):
    """The command that runs ``tests/support/<name>.py`` as a module (run it with ``cwd=REPO``)."""
    return [python or sys.executable, "-m", f"tests.support.{name}"]
