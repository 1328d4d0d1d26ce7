"""Production: HTTPS cookies; SECRET_KEY and DATABASE_URL must come from the environment."""

SESSION_COOKIE_SECURE = True
REMEMBER_COOKIE_SECURE = True
SCHEDULER_IN_PROCESS = False
SHOW_DEMO_ON_HOME = False
