"""``python -m rag``: the same CLI as the ``rag`` command."""

import sys

from rag.cli import main

sys.exit(main())
