"""The composition root: the ``rag`` command's parser and dispatch, above rag/, eval/ and ui/.

Each of those packages registers its own subcommands (``register(sub)``, setting ``run``); only
this package knows them all, so none of them imports another's entry points.
"""
