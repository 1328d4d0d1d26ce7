"""Development: the defaults, with the scheduler inside `tracker run`."""

SCHEDULER_IN_PROCESS = True
