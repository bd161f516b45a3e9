"""``python -m rag``: the same CLI as the ``rag`` command, whose parser and dispatch live in the
composition root ``cli/`` (above rag/; tools/imports.py counts this shim as part of it)."""

import sys

from cli.main import main

sys.exit(main())
