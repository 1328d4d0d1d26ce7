"""Scheduled jobs: the reminder sweep, the outbox dispatcher and the daily digest, and the scheduler that runs them.

Each job is a plain function taking `now`; `runner.run_job` wraps it (app context, one commit, heartbeat),
`scheduler` runs them on intervals under a database lock, and `cli` exposes them as `tracker` commands.
"""
