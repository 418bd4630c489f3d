"""``python -m found.engine``: print the embedded engine library's path."""

import sys

from found.engine import main

if __name__ == "__main__":
    sys.exit(main())
