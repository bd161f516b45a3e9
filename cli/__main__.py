"""``python -m cli``: the same CLI as the ``rag`` command (and ``python -m rag``)."""

import sys

from cli.main import main

sys.exit(main())
