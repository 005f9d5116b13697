"""``python -m usage_service``: the same commands as ``pywebcodecs keys``/``serve``."""

import sys

from .cli import main

sys.exit(main())
