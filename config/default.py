"""Every setting the tracker reads, with its default. Loaded first; see tracker/config.py for the order.

Override per environment in config/<TRACKER_ENV>.py, in a file named by TRACKER_CONFIG, or with
environment variables: TRACKER_<KEY> for any key (values parsed as JSON when they can be), plus the
conventional SECRET_KEY, MAIL_* and ZALO_* variables.
"""

# --- Core -------------------------------------------------------------------------------------------
#: Signs sessions and CSRF tokens. Production refuses to start with this default.
SECRET_KEY = "dev-insecure-secret-change-me"
#: SQLAlchemy URL. None means a SQLite file `tracker.db` in the instance folder (one commune, nothing
#: to install). For a province or the country: postgresql+psycopg://user@host/tracker
DATABASE_URL = None
SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
#: Base URL used in links inside e-mails and Zalo messages.
PUBLIC_BASE_URL = "http://127.0.0.1:5000"
#: Days an action link in a reminder (PUBLIC_BASE_URL/r/<token>: mark done, report, ask for more time)
#: stays usable. Each link is single-use, for its recipient only, and still asks for sign-in.
ACTION_LINK_DAYS = 14

# --- Time and calendar ------------------------------------------------------------------------------
TIMEZONE = "Asia/Ho_Chi_Minh"
#: An open occurrence due within this many days is "due soon" (sắp đến hạn).
DUE_SOON_DAYS = 5
#: Days after the due date before an open occurrence counts as overdue (0: overdue from the next day).
OVERDUE_GRACE_DAYS = 0
#: Messages (e-mail, Zalo) go out only on working days between these local times.
WORK_HOURS_START = "07:30"
WORK_HOURS_END = "17:00"
#: Weekend days (Monday is 0): Saturday and Sunday.
WEEKEND_DAYS = [5, 6]
#: Announced changes to the calendar (ISO dates); admins can also enter them as calendar exceptions.
CALENDAR_EXTRA_DAYS_OFF: list[str] = []
CALENDAR_EXTRA_WORKING_DAYS: list[str] = []
#: A recurring task's occurrence is due this many days after its period ends (0: on the last day).
RECURRING_DUE_OFFSET_DAYS = 0

# --- Home page --------------------------------------------------------------------------------------
#: On an instance holding the bundled demo (`tracker demo`), show anonymous visitors the demo plans'
#: tasks and the accounts to sign in with. Only demo plans (matched by content hash) are ever shown;
#: production turns it off.
SHOW_DEMO_ON_HOME = True

# --- Languages --------------------------------------------------------------------------------------
BABEL_DEFAULT_LOCALE = "vi"
BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
LANGUAGES = ["vi", "en"]

# --- Web security -----------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = False  # True in production (HTTPS behind the proxy)
REMEMBER_COOKIE_HTTPONLY = True
#: "Keep me signed in": the cookie naming a server-side sign-in session and its secret (HttpOnly, SameSite as
#: the session cookie, Secure when REMEMBER_COOKIE_SECURE, as in production). Signing out revokes that
#: session; a new password revokes all of the person's.
KEEP_SIGNED_IN_COOKIE = "tracker_remember"
REMEMBER_DAYS = 30
REMEMBER_COOKIE_SECURE = False
#: A sign-in without "keep me signed in" ends after this many hours at the latest.
SESSION_MAX_HOURS = 24
#: Sign-in attempts allowed per username within the window before it is refused for a while.
LOGIN_MAX_FAILURES = 5
#: Failed sign-ins allowed from one client address within the window, whatever names it tries (password
#: spraying). A commune office behind one NAT address shares it, hence far above the per-username limit.
LOGIN_MAX_FAILURES_PER_IP = 50
LOGIN_WINDOW_SECONDS = 900
PASSWORD_RESET_MAX_AGE_SECONDS = 3600
#: Rate limits (Flask-Limiter; "N per second|minute|hour|day", several joined by ";"), answered with 429 and
#: Retry-After. The API counts per token (or per address without one), across every /api/v1 resource;
#: signing in and asking for a password link count per client address (POST only), besides the
#: per-username failure limit above.
RATELIMIT_ENABLED = True
API_RATE_LIMIT = "300 per minute;5000 per hour"
LOGIN_RATE_LIMIT = "30 per minute;300 per hour"
#: Where the counts live. memory:// is one process's own (the laptop's `tracker serve`); several web
#: processes must share them: redis://127.0.0.1:6379/0 (production's default) or memcached://.
RATELIMIT_STORAGE_URI = "memory://"
RATELIMIT_KEY_PREFIX = "tracker"
RATELIMIT_STRATEGY = "fixed-window"
RATELIMIT_HEADERS_ENABLED = True
#: If the storage is unreachable, count in memory meanwhile rather than refuse every request.
RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
#: Requests for a password-reset link, counted apart from sign-ins (asking for a link never blocks signing
#: in) within PASSWORD_RESET_WINDOW_SECONDS: at most this many per username or e-mail address given,
#: whether or not such an account exists, and at most PASSWORD_RESET_MAX_PER_IP from one client address
#: (behind a proxy every request shares the proxy's address unless it passes the client's on).
PASSWORD_RESET_WINDOW_SECONDS = 3600
PASSWORD_RESET_MAX_PER_USERNAME = 3
PASSWORD_RESET_MAX_PER_IP = 20
#: Largest request body accepted (attachments, plan uploads).
MAX_CONTENT_LENGTH = 25 * 1024 * 1024
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
ATTACHMENT_EXTENSIONS = ["pdf", "doc", "docx", "xls", "xlsx", "odt", "ods", "png", "jpg", "jpeg", "txt", "zip"]

# --- People import (tracker people import, Administration > People) -------------------------------
#: Largest people file (.xlsx or .csv); a province's officers (~10,000 rows) fit in well under 2 MB.
PEOPLE_IMPORT_MAX_BYTES = 5 * 1024 * 1024
#: Most people rows read from one file; more is refused (split the file) rather than read without end.
PEOPLE_IMPORT_MAX_ROWS = 20_000

# --- Plan import ------------------------------------------------------------------------------------
IMPORT_MAX_BYTES = 20 * 1024 * 1024
IMPORT_MAX_PDF_PAGES = 300
#: Reading one uploaded document stops (with a clear message) after this many seconds. Uploads are read
#: by `tracker worker`, outside any web request, so this bounds a worker, not a page load.
IMPORT_TIME_LIMIT_SECONDS = 1800
#: Scanned PDFs up to this many pages are read by OCR (Tesseract with its Vietnamese model, about half a
#: second an A4 page) when the server has it installed; 0 turns OCR off.
IMPORT_OCR_MAX_PAGES = 300
#: A worker reading an upload renews its claim this long ahead; a job whose worker died is taken over once
#: its lease has expired, up to IMPORT_JOB_MAX_ATTEMPTS times, then failed with a message.
IMPORT_JOB_LEASE_SECONDS = 120
IMPORT_JOB_MAX_ATTEMPTS = 3
#: The progress page's page count is written at most this often (and at every change of phase).
IMPORT_PROGRESS_INTERVAL_SECONDS = 1.0

# --- Workers (`tracker worker`) ---------------------------------------------------------------------
#: An idle worker looks for new imports and due notifications this often.
WORKER_POLL_SECONDS = 2
#: A worker records its heartbeat this often; one silent for three beats is taken for dead.
WORKER_HEARTBEAT_SECONDS = 10

# --- The audit trail's hash chains (tracker/operations/audit_chain.py) ---------------------------------
#: Requests write audit events unlinked; the sequencer (every worker's "audit" loop, and the scheduler's
#: audit_link job every AUDIT_LINK_INTERVAL_SECONDS) links them into their chains, AUDIT_LINK_BATCH events
#: per transaction.
AUDIT_LINK_INTERVAL_SECONDS = 10
AUDIT_LINK_BATCH = 500
#: `tracker audit verify` counts unlinked events younger than this as waiting for the sequencer; older ones
#: fail the verification (no sequencer is running, or rows were added behind the application's back).
AUDIT_LINK_GRACE_SECONDS = 300

# --- Periodic reports -------------------------------------------------------------------------------
#: The .docx template of the periodic report (Decree 30/2020 layout with placeholders; see
#: tracker/reports/template.py). None: the bundled tracker/data/report_templates/bao-cao.docx. An office
#: may point this at its own file.
REPORT_TEMPLATE_PATH = None

# --- Reminders and the outbox -----------------------------------------------------------------------
SWEEP_INTERVAL_SECONDS = 300
#: How often the scheduler checks that the status counts the overview and roll-ups read are of today (a small
#: SELECT); the first check after local midnight recounts them (`tracker summaries rebuild` does it by hand).
SUMMARY_CHECK_SECONDS = 300
#: How far back the sweep catches up, in working days (20: about a month): a rule that came due while the
#: scheduler was down goes out late, once, if it came due within this horizon; older ones (a plan imported
#: in its second year) are not sent. 0: no horizon.
SWEEP_CATCH_UP_WORKING_DAYS = 20
DISPATCH_INTERVAL_SECONDS = 60
DISPATCH_BATCH_SIZE = 200
#: Attempts before a notification is marked dead; retries back off exponentially from the base.
DISPATCH_MAX_ATTEMPTS = 6
DISPATCH_BACKOFF_SECONDS = 60
#: How long a dispatcher may hold a claimed row before another may take it over.
DISPATCH_CLAIM_SECONDS = 300
#: Longest wait between two retries, and the wait after a channel refused our credentials.
DISPATCH_BACKOFF_MAX_SECONDS = 6 * 3600
DISPATCH_REAUTH_DELAY_SECONDS = 1800
#: Batches one dispatch run sends at most (DISPATCH_BATCH_SIZE rows each).
DISPATCH_MAX_BATCHES = 100
#: Circuit breaker per channel: failures in a row (none accepted) that pause the channel, the first pause
#: (doubled with each systemic failure in a row) and the longest one. Paused messages spend no attempt.
DISPATCH_BREAKER_THRESHOLD = 5
DISPATCH_BREAKER_BACKOFF_SECONDS = 60
DISPATCH_BREAKER_BACKOFF_MAX_SECONDS = 3600
#: Send e-mail (in-app is always on; Zalo when ZALO_ENABLED).
NOTIFY_EMAIL_ENABLED = True
#: Local time the daily digests go out.
DIGEST_LOCAL_TIME = "07:45"
#: The daily purge (`tracker purge`, and the scheduler at PURGE_LOCAL_TIME) deletes reminder action links
#: expired more than ACTION_LINK_RETENTION_DAYS ago (used, revoked or not: they open nothing any more), and
#: import jobs finished (done or failed) more than IMPORT_JOB_RETENTION_DAYS ago, with the uploaded bytes
#: they still hold; the plan a job wrote keeps its own copy of the document. 0 keeps them for ever.
ACTION_LINK_RETENTION_DAYS = 30
IMPORT_JOB_RETENTION_DAYS = 90
#: Rows deleted per statement, each batch committed on its own: no long transaction on a long backlog.
PURGE_BATCH_SIZE = 5000
PURGE_LOCAL_TIME = "03:30"
#: Bundling (tracker/jobs/bundle.py): the reminders and escalations one sweep queues for one person on one
#: channel go out as one message listing them all (grouped by unit, most overdue first) when there are at
#: least BUNDLE_MIN_ITEMS of them, and always when they include an escalation to a person above the
#: commune level (BUNDLE_ESCALATIONS_ABOVE_COMMUNE). Fewer items go out one message each. People who chose
#: the daily digest get theirs in the digest instead.
BUNDLE_ENABLED = True
BUNDLE_MIN_ITEMS = 3
BUNDLE_ESCALATIONS_ABOVE_COMMUNE = True
#: Channels bundled ("email", "zalo", "in_app").
BUNDLE_CHANNELS = ("email", "zalo", "in_app")
#: The active scheduler renews its lease this often; another takes over after it expires.
SCHEDULER_LEASE_SECONDS = 90
#: `tracker run` also runs the scheduler in-process (one machine, one commune).
SCHEDULER_IN_PROCESS = False
#: Whether the scheduler runs the dispatcher itself: "auto" (only while no live `tracker worker` drains the
#: outbox: workers dispatch continuously, the scheduler keeps the schedule), "always" or "never".
DISPATCH_IN_SCHEDULER = "auto"

# --- E-mail (Flask-Mail) ----------------------------------------------------------------------------
MAIL_SERVER = "localhost"
MAIL_PORT = 25
MAIL_USE_TLS = False
MAIL_USE_SSL = False
MAIL_USERNAME = None
MAIL_PASSWORD = None
MAIL_DEFAULT_SENDER = "tracker@localhost"
MAIL_SUPPRESS_SEND = False
#: Seconds before an unanswering SMTP server counts as down (the row is retried later).
MAIL_TIMEOUT_SECONDS = 10
#: Domain of our Message-IDs (default: the sender's domain); stable per notification so retries collapse.
MAIL_MESSAGE_ID_DOMAIN = None

# --- Zalo (Official Account / ZNS) ------------------------------------------------------------------
ZALO_ENABLED = False
ZALO_APP_ID = None
ZALO_SECRET_KEY = None
ZALO_OAUTH_URL = "https://oauth.zaloapp.com"
ZALO_OPENAPI_URL = "https://openapi.zalo.me"
ZALO_ZNS_URL = "https://business.openapi.zalo.me"
ZALO_TIMEOUT_SECONDS = 10
#: The "Official Account Callback URL" registered for the app at developers.zalo.me (it must match exactly);
#: default: this site's /admin/channels/zalo/callback as the browser reached it.
ZALO_REDIRECT_URI = None
#: ZNS template ids registered with Zalo, per message kind ("reminder", "escalation", "digest").
ZALO_TEMPLATE_IDS: dict[str, str] = {}
#: For each ZNS template, which of our message variables fill its parameters, e.g.
#: {"reminder": {"ten_nhiem_vu": "task_title", "han": "due_on"}}.
ZALO_TEMPLATE_PARAMS: dict[str, dict[str, str]] = {}

# --- API (flask-smorest) ----------------------------------------------------------------------------
#: Reverse proxies in front of the app whose X-Forwarded-For/-Proto headers are trusted (nginx alone: 1).
PROXY_COUNT = 0

#: How long a new API token is valid; the person makes a new one when it runs out (0: never expires).
API_TOKEN_LIFETIME_DAYS = 365

API_TITLE = "API Theo dõi nhiệm vụ (Tracker API)"
API_VERSION = "v1"
OPENAPI_VERSION = "3.0.3"
OPENAPI_URL_PREFIX = "/api"
OPENAPI_JSON_PATH = "openapi.json"
API_PAGE_SIZE_MAX = 200
