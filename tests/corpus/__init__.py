"""The standing bad-input corpus (issue 9 §3): every command × every kind of damaged input it reads.

``commands.py`` is the registry of commands (extend it when a command is added), ``cases.py`` the damage
cases and the expected exit codes, ``workspace.py`` the tiny estate and files each run gets, and
``test_corpus.py`` the parametrized product.
"""
