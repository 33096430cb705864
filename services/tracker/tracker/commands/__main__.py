"""Entry point of `python -m tracker.commands`."""

from __future__ import annotations

import sys

from tracker.commands.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
