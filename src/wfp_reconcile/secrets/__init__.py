"""Customer secrets declared in git, encrypted with age (through pyrage).

``age``: encrypt, decrypt, keys and the shape of an armored value (no crypto of our own).
``fields``: the model types of ``secrets:`` in platform.yaml and customer.yaml.
``identity``: the decryption identity from the environment, and the public demo one.
``declared``: which secrets a script gets (customer's, overridden by the script's).
``rules``: validation across files (recipients, names).
``edit``: ``secret set/rm/rotate-recipients`` as file writes.

This package never imports ``wfp_reconcile.config`` at import time (the model imports
``fields``), so it stays free of import cycles.
"""
