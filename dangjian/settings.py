"""Dangjian settings: one module, driven by environment variables.

Development defaults are safe for a laptop (SQLite under var/, debug on). A production install sets
DANGJIAN_ENV=production, which turns debug off, requires a real secret key and enables every
transport-security setting that `manage.py check --deploy` looks for.
"""

import datetime as dt
import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("DANGJIAN_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


ENVIRONMENT = os.environ.get("DANGJIAN_ENV", "development")
PRODUCTION = ENVIRONMENT == "production"

DEBUG = env_bool("DJANGO_DEBUG", not PRODUCTION)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
DEV_SECRET_KEY = "dev-only-insecure-key-never-use-in-production-0123456789abcdefghijklmnop"
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("生产环境必须设置 DJANGO_SECRET_KEY 环境变量。")
    SECRET_KEY = DEV_SECRET_KEY
elif PRODUCTION and (
    len(SECRET_KEY) < 50
    or len(set(SECRET_KEY)) < 5
    or SECRET_KEY.startswith("django-insecure-")
    or SECRET_KEY == DEV_SECRET_KEY
):
    # The bar of Django's own deploy check (security.W009), enforced at start rather than only warned about.
    raise ImproperlyConfigured(
        "生产环境的 DJANGO_SECRET_KEY 强度不足：须至少 50 个字符、至少 5 个不同字符，且不能是示例密钥。"
        '可用 python -c "import secrets; print(secrets.token_urlsafe(64))" 生成。'
    )

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "dangjian.accounts.admin_site.DangjianAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "django_filters",
    "django_htmx",
    "simple_history",
    "treebeard",
    "dangjian.core",
    "dangjian.accounts",
    "dangjian.orgs",
    "dangjian.members",
    "dangjian.schools",
    "dangjian.training",
    "dangjian.orglife",
    "dangjian.committees",
    "dangjian.supervision",
    "dangjian.development",
    "dangjian.learning",
    "dangjian.dues",
    "dangjian.exams",
    "dangjian.notices",
    "dangjian.workbench",
    "dangjian.audit",
    "dangjian.jobs",
    "dangjian.demo",
]

MIDDLEWARE = [
    # First: the load balancer's probe answers before host checks, redirects and sessions (core.health).
    "dangjian.core.health.HealthCheckMiddleware",
    # One JSON line per request (core.logging), timed from here.
    "dangjian.core.logging.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Before the account-policy middlewares below, which leave messages on their redirects.
    "django.contrib.messages.middleware.MessageMiddleware",
    "dangjian.core.request_context.RequestContextMiddleware",
    "dangjian.core.middleware.AdminNetworkMiddleware",
    "dangjian.accounts.middleware.AccessMiddleware",
    "dangjian.accounts.middleware.SessionPolicyMiddleware",
    "dangjian.accounts.middleware.SecondFactorMiddleware",
    "axes.middleware.AxesMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "dangjian.audit.middleware.AuditMiddleware",
]

ROOT_URLCONF = "dangjian.urls"
WSGI_APPLICATION = "dangjian.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "dangjian" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dangjian.accounts.context_processors.access",
                "dangjian.notices.context_processors.notices",
            ],
        },
    },
]

# SQLite under var/ is the embedded default; DATABASE_URL (postgres://…) selects PostgreSQL.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'dangjian.sqlite3'}"),
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers proceed while one writer commits; IMMEDIATE avoids "database is locked" on upgrades.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses locked accounts before the password is checked
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Password policy (docs/security.md): length 8-128, 3 of 4 character classes, no common or recent password.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": int(os.environ.get("DANGJIAN_PASSWORD_MIN_LENGTH", "8"))},
    },
    {
        "NAME": "dangjian.accounts.passwords.MaximumLengthValidator",
        "OPTIONS": {"max_length": int(os.environ.get("DANGJIAN_PASSWORD_MAX_LENGTH", "128"))},
    },
    {
        "NAME": "dangjian.accounts.passwords.CharacterClassesValidator",
        "OPTIONS": {"min_classes": int(os.environ.get("DANGJIAN_PASSWORD_MIN_CLASSES", "3"))},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {
        "NAME": "dangjian.accounts.passwords.PasswordHistoryValidator",
        "OPTIONS": {"keep": int(os.environ.get("DANGJIAN_PASSWORD_HISTORY", "5"))},
    },
]
DANGJIAN_PASSWORD_MAX_AGE_DAYS = int(os.environ.get("DANGJIAN_PASSWORD_MAX_AGE_DAYS", "90"))

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# Uploaded evidence and materials: never served as static files; views hand them out after a scope check.
MEDIA_ROOT = Path(os.environ.get("DANGJIAN_MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"
# Stored uploads are for the application's own user only: the default storage gives a saved file mode 0600 and a
# directory it creates under MEDIA_ROOT mode 0700 (create MEDIA_ROOT itself 0700 when deploying).
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
# Front-end assets come from npm (package.json + package-lock.json), never from a CDN.
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
]
STATICFILES_DIRS = [(prefix, path) for prefix, path in STATICFILES_DIRS if path.exists()]
STATICFILES_DIRS.append(BASE_DIR / "dangjian" / "static")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Sessions end after 30 minutes idle (the cookie age, renewed on every request).
SESSION_COOKIE_AGE = int(os.environ.get("DJANGO_SESSION_COOKIE_AGE", str(30 * 60)))
SESSION_SAVE_EVERY_REQUEST = True
# However active, a session ends this many seconds after login (12 hours).
DANGJIAN_SESSION_MAX_AGE = int(os.environ.get("DANGJIAN_SESSION_MAX_AGE", str(12 * 3600)))
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy: scripts and styles only from our own origin, no inline script or style markup.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# The admin site answers only from these networks (CIDR list); empty means from anywhere.
DANGJIAN_ADMIN_ALLOWED_NETWORKS = env_list("DANGJIAN_ADMIN_ALLOWED_NETWORKS", "")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

if PRODUCTION:
    # DJANGO_SECURE_COOKIES=0 only for a trial on plain HTTP (`make serve`, the load benchmark): a browser or a client
    # sends a secure cookie back over HTTPS only.
    SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Demo accounts exist only where the demo loader ran; this flag lets production refuse to run it.
DANGJIAN_ALLOW_DEMO = env_bool("DANGJIAN_ALLOW_DEMO", not PRODUCTION)

# Lists are always paginated; a client may ask for a page size up to this bound.
DANGJIAN_PAGE_SIZE = 20
DANGJIAN_MAX_PAGE_SIZE = 200

# Logs (core.logging): one JSON line per request and per error (with its stack) in production, plain text while
# developing (DANGJIAN_LOG_FORMAT=json|text); ID numbers and phone numbers are masked in every line, whatever logs it.
DANGJIAN_LOG_FORMAT = os.environ.get("DANGJIAN_LOG_FORMAT", "json" if PRODUCTION else "text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"personal_data": {"()": "dangjian.core.logging.PersonalDataFilter"}},
    "formatters": {
        "json": {"()": "dangjian.core.logging.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": DANGJIAN_LOG_FORMAT,
            "filters": ["personal_data"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        # Lockouts and failures are in the audit trail; axes' own per-request chatter is noise.
        "axes": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        # Our request line (core.logging) replaces Django's and the server's access lines.
        "django.server": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "dangjian.request": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# Cache and sessions shared by every app process (nothing assumes one process): Redis when REDIS_URL is set, the
# database otherwise (the table is created by `migrate`, core.apps). Sessions stay in the database, read through the
# cache when there is Redis, so a Redis restart logs nobody out.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "dangjian",
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "dangjian_cache",
            "KEY_PREFIX": "dangjian",
        }
    }

# Background jobs and periodic work (Celery, dangjian/celery.py): on Redis when REDIS_URL is set; without it (the
# embedded default, `make run`, the tests) a job runs in the process that asks for it.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True  # a job whose worker dies mid-way is run again (jobs are written to be re-run)
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BEAT_SCHEDULE = {
    # The same commands cron can run (docs/operator-guide.md): reminders each morning, flags after midnight.
    "send-reminders": {
        "task": "dangjian.core.tasks.run_command",
        "schedule": crontab(hour=7, minute=0),
        "args": ("send_reminders",),
    },
}

# Member registry: a transfer pending longer than this many days is on both sides' to-do lists.
DANGJIAN_TRANSFER_OVERDUE_DAYS = int(os.environ.get("DANGJIAN_TRANSFER_OVERDUE_DAYS", "30"))
# Organizational life (组织生活): an activity record locks this many days after its date; later changes go
# through the logged correction path.
DANGJIAN_ORGLIFE_LOCK_DAYS = int(os.environ.get("DANGJIAN_ORGLIFE_LOCK_DAYS", "30"))
# To-do list and reminders (待办, send_reminders): members with no organizational life for this many full months are
# flagged for their branch; a member is behind on hours below this percent of the pro-rata share of the year; the
# daily job mails a digest only with this on (or --email); links in mails start with DANGJIAN_SITE_URL.
DANGJIAN_ORGLIFE_ABSENCE_MONTHS = int(os.environ.get("DANGJIAN_ORGLIFE_ABSENCE_MONTHS", "6"))
DANGJIAN_HOURS_BEHIND_PACE_PERCENT = int(os.environ.get("DANGJIAN_HOURS_BEHIND_PACE_PERCENT", "100"))
DANGJIAN_REMINDER_EMAIL = env_bool("DANGJIAN_REMINDER_EMAIL", False)
DANGJIAN_SITE_URL = os.environ.get("DANGJIAN_SITE_URL", "")
# Imports of more data rows than this run as a background job (jobs), not inside the request.
DANGJIAN_JOB_THRESHOLD_ROWS = int(os.environ.get("DANGJIAN_JOB_THRESHOLD_ROWS", "2000"))
# Member import: the most data rows one file may hold.
DANGJIAN_IMPORT_MAX_ROWS = int(os.environ.get("DANGJIAN_IMPORT_MAX_ROWS", "200000"))

# Training (培训与学时). QR sign-in opens this many minutes before a session and closes this many after it;
# members with no hours for this many months are 长期漏训 candidates at filing; teaching a session earns the
# instructor-member this many hours (empty: the session's own hours).
DANGJIAN_SIGN_IN_EARLY_MINUTES = int(os.environ.get("DANGJIAN_SIGN_IN_EARLY_MINUTES", "30"))
DANGJIAN_SIGN_IN_LATE_MINUTES = int(os.environ.get("DANGJIAN_SIGN_IN_LATE_MINUTES", "30"))
DANGJIAN_LONG_UNTRAINED_MONTHS = int(os.environ.get("DANGJIAN_LONG_UNTRAINED_MONTHS", "12"))
DANGJIAN_TEACHING_REWARD_HOURS = os.environ.get("DANGJIAN_TEACHING_REWARD_HOURS") or None

# Uploaded spreadsheets (member import): checked before any parser reads them (core.uploads).
DANGJIAN_UPLOAD_MAX_BYTES = int(os.environ.get("DANGJIAN_UPLOAD_MAX_BYTES", str(20 * 1024 * 1024)))
DANGJIAN_UPLOAD_MAX_ZIP_ENTRIES = 1000
# Unpacked (measured, 200,000 rows x 13 columns): 129 MB as openpyxl writes it (inline strings, like the export),
# almost all of it the worksheet; 110 MB as Excel writes it (shared strings). 200 MB leaves a margin for longer values.
DANGJIAN_UPLOAD_MAX_UNPACKED_BYTES = int(os.environ.get("DANGJIAN_UPLOAD_MAX_UNPACKED_BYTES", str(200 * 1024 * 1024)))
DANGJIAN_UPLOAD_MAX_COMPRESSION_RATIO = 100
# Any one part other than a worksheet (the reader holds sharedStrings whole: 13 MB for 200,000 rows), and the text of
# a worksheet with its shared strings filled in where used (22-28 MB for 200,000 rows).
DANGJIAN_UPLOAD_MAX_PART_BYTES = int(os.environ.get("DANGJIAN_UPLOAD_MAX_PART_BYTES", str(64 * 1024 * 1024)))
# One cell's text (Excel itself holds at most 32,767 characters in a cell).
DANGJIAN_UPLOAD_MAX_CELL_CHARS = int(os.environ.get("DANGJIAN_UPLOAD_MAX_CELL_CHARS", "32767"))
# The rectangle from A1 to the last row and column used, which the reader allocates whole: 200,001 rows x 20 columns.
DANGJIAN_UPLOAD_MAX_CELLS = int(os.environ.get("DANGJIAN_UPLOAD_MAX_CELLS", str(4_000_000)))
# Attachments (六有 evidence, organizational-life photos and scans, core.uploads.check_file_upload): the extension,
# the content's signature and this size.
DANGJIAN_ATTACHMENT_MAX_BYTES = int(os.environ.get("DANGJIAN_ATTACHMENT_MAX_BYTES", str(10 * 1024 * 1024)))

# Audit trail (安全审计): records are kept at least this many days; the purge command refuses younger ones.
DANGJIAN_AUDIT_RETENTION_DAYS = max(int(os.environ.get("DANGJIAN_AUDIT_RETENTION_DAYS", "180")), 180)
# Reverse proxies whose X-Forwarded-For is believed for the client address (CIDR list).
DANGJIAN_TRUSTED_PROXIES = env_list("DANGJIAN_TRUSTED_PROXIES", "")

# Encryption at rest of ID numbers (core.crypto): keys from the environment or this file, never the database.
DANGJIAN_KEY_FILE = os.environ.get("DANGJIAN_KEY_FILE", str(VAR_DIR / "keys" / "field.keys"))

# Second factor (TOTP): required for these roles when enforced. Enforced by default in production only, so
# the demo install lets a newcomer in with the printed logins.
DANGJIAN_OTP_ENFORCE = env_bool("DANGJIAN_OTP_ENFORCE", PRODUCTION)
DANGJIAN_OTP_REQUIRED_ROLES = env_list(
    # Every account with more than its own data (the 三员 and every business role but 党员).
    "DANGJIAN_OTP_REQUIRED_ROLES",
    "system_admin,security_admin,audit_admin,committee,school_admin,secretary,instructor",
)
OTP_TOTP_ISSUER = "党建云"
OTP_TOTP_THROTTLE_FACTOR = 1

# Login failures (accounts.lockout): N failures within the window lock the account for the duration.
DANGJIAN_LOCKOUT_FAILURES = int(os.environ.get("DANGJIAN_LOCKOUT_FAILURES", "5"))
DANGJIAN_LOCKOUT_WINDOW = dt.timedelta(minutes=int(os.environ.get("DANGJIAN_LOCKOUT_WINDOW_MINUTES", "15")))
DANGJIAN_LOCKOUT_DURATION = dt.timedelta(minutes=int(os.environ.get("DANGJIAN_LOCKOUT_DURATION_MINUTES", "30")))
AXES_HANDLER = "dangjian.accounts.lockout.WindowedLockoutHandler"
AXES_FAILURE_LIMIT = DANGJIAN_LOCKOUT_FAILURES
AXES_COOLOFF_TIME = DANGJIAN_LOCKOUT_DURATION
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "dangjian.accounts.lockout.lockout_response"
AXES_VERBOSE = False
# W006 warns that user-agent or cookie rotation could dodge a lock keyed on several parameters. Ours is keyed
# on the username alone and counted from the failure log, so rotation changes nothing.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# Roles that may reveal a member's full ID number (each viewing is audited); everyone else sees it masked.
DANGJIAN_FULL_ID_ROLES = env_list("DANGJIAN_FULL_ID_ROLES", "committee,secretary")
# ID numbers one user may check against the registry per day (imports, dry runs, member forms); 0 = no limit.
DANGJIAN_ID_LOOKUP_DAILY_LIMIT = int(os.environ.get("DANGJIAN_ID_LOOKUP_DAILY_LIMIT", "2000"))
# More numbers registered outside the user's scope than this, in one import or one day: a security alert.
DANGJIAN_FOREIGN_LOOKUP_ALERT = int(os.environ.get("DANGJIAN_FOREIGN_LOOKUP_ALERT", "20"))
