"""``python -m found``: the ``found`` command (docs/cli.md)."""

import sys

from found._cli import main

if __name__ == "__main__":
    sys.exit(main())
