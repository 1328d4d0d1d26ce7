"""Production: HTTPS cookies, no demo on the home page, rate limits shared through Redis; SECRET_KEY must come
from the environment."""

SESSION_COOKIE_SECURE = True
REMEMBER_COOKIE_SECURE = True
SCHEDULER_IN_PROCESS = False
SHOW_DEMO_ON_HOME = False
#: Several web processes share the rate-limit counts through Redis (beside PostgreSQL).
RATELIMIT_STORAGE_URI = "redis://127.0.0.1:6379/0"
