"""Domain operations: the verbs the web, the API, the CLI and the jobs share.

Each operation validates, checks the actor's permission, changes state, flushes and writes its audit
event; none commits, so the caller decides the transaction.
"""
