"""``python -m genlab``: the same as the ``genlab`` command."""

import sys

from .cli import main

sys.exit(main())
