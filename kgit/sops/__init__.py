"""SOPS: files encrypted in Git, decrypted in memory by the real ``sops`` before loading.

``detect`` recognises an encrypted file and reads its recipients (pure), ``binary`` runs
``sops`` over stdin and stdout, ``keys`` finds the age keys it is given, ``stage`` is the
step of the source-reading path that turns a source's encrypted files into plaintext
ones, and ``keyring`` keeps kgit's own age key in a Secret (``kgit sops-key``).
"""
