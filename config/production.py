"""Production: HTTPS cookies, no demo on the home page; SECRET_KEY must come from the environment."""

SESSION_COOKIE_SECURE = True
REMEMBER_COOKIE_SECURE = True
SCHEDULER_IN_PROCESS = False
SHOW_DEMO_ON_HOME = False
