"""Settings for the consent ledger, read from the environment.

Every value a deployment may change is an environment variable; the helpers
below refuse malformed values instead of guessing. With ``DEBUG`` off (the
default) the process refuses to start without ``SECRET_KEY``,
``ALLOWED_HOSTS`` and ``DATABASE_URL``.
"""

import datetime
import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.getenv(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_int(name, default):
    value = os.getenv(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None


def env_list(name, default=""):
    return [item.strip() for item in os.getenv(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = os.getenv("SECRET_KEY", "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
DATABASE_URL = os.getenv("DATABASE_URL", "")
# The organisation's own mail domains: a roster address outside them is
# refused, so HR cannot invent a colleague whose invitation it receives.
ALLOWED_EMAIL_DOMAINS = [domain.lower().lstrip("@") for domain in env_list("ALLOWED_EMAIL_DOMAINS")]

if not DEBUG:
    missing = [
        name
        for name, value in (
            ("SECRET_KEY", SECRET_KEY),
            ("ALLOWED_HOSTS", ALLOWED_HOSTS),
            ("DATABASE_URL", DATABASE_URL),
            ("ALLOWED_EMAIL_DOMAINS", ALLOWED_EMAIL_DOMAINS),
        )
        if not value
    ]
    if missing:
        raise ImproperlyConfigured("With DEBUG off these must be set: " + ", ".join(missing))
if DEBUG:
    SECRET_KEY = SECRET_KEY or "insecure-local-development-key-never-use-in-production"
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]"]
    # The domains of the tests (example.jp) and of seed_demo (demo.example.jp).
    ALLOWED_EMAIL_DOMAINS = ALLOWED_EMAIL_DOMAINS or ["example.jp", "demo.example.jp"]

# The key behind the audit pseudonyms. Changing it would not change existing
# pseudonyms (they are stored), but new people would no longer match a
# recomputation, so it is fixed per deployment.
PSEUDONYM_KEY = os.getenv("PSEUDONYM_KEY", SECRET_KEY)

# HR figures about fewer people than this are hidden (small-cell suppression).
SUPPRESSION_K = env_int("SUPPRESSION_K", 5)
if SUPPRESSION_K < 2:
    # Below 2 a figure about one person would show, and with it that person's choice.
    raise ImproperlyConfigured(f"SUPPRESSION_K must be 2 or more, not {SUPPRESSION_K}")


def env_times(name, default):
    try:
        return sorted(datetime.time.fromisoformat(item) for item in env_list(name, default))
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be times of day such as 06:00,18:00") from None


# When HR's figures are published each day (local time): the publish_figures
# command, run by a timer, publishes once each of these times has passed.
FIGURES_RELEASE_TIMES = env_times("FIGURES_RELEASE_TIMES", "06:00") or [datetime.time(6)]

# The union's indicator counts accounts that record a decision within this
# many days of being created or re-addressed: a ghost is made to be used.
NEW_ACCOUNT_DECISION_DAYS = env_int("NEW_ACCOUNT_DECISION_DAYS", 14)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "consent",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "consent.access.RefuseNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "consent.nostore.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "consent.access.PrivilegedRoleMFAMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "consent.access.roles_context",
                "consent.context_processors.language_switch",
            ],
        },
    },
]

# Persistent connections (CONN_MAX_AGE seconds; 0 behind PgBouncer in transaction
# pooling), checked before reuse so a restarted database costs no failed request.
CONN_MAX_AGE = env_int("CONN_MAX_AGE", 60)
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=CONN_MAX_AGE, conn_health_checks=True)
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.getenv("SQLITE_PATH", str(BASE_DIR / "var" / "db.sqlite3")),
            # IMMEDIATE makes every transaction take the write lock up front,
            # so concurrent writers wait for each other instead of failing
            # with "database is locked" half-way through.
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DATABASES["default"]["TEST"] = {"NAME": os.getenv("TEST_DATABASE_NAME") or None}
# HR's and the union's page reads may go to a replica (consent/routers.py); every
# write, every transaction and the chain head stay on the primary. In tests the
# alias mirrors the test database.
DATABASE_REPLICA_URL = os.getenv("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL, conn_max_age=CONN_MAX_AGE, conn_health_checks=True
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["consent.routers.ReplicaRouter"]
# Behind PgBouncer in transaction pooling a server-side cursor (QuerySet.iterator)
# may outlive its transaction's server connection: set this to true there.
for _alias in DATABASES.values():
    _alias["DISABLE_SERVER_SIDE_CURSORS"] = env_bool("DISABLE_SERVER_SIDE_CURSORS", default=False)
# Prepared statements: with parameters bound on the server, psycopg prepares a
# query the fifth time a connection runs it, and PostgreSQL then neither parses
# nor plans it again. The reads of every signed-in page are the same few queries,
# so this took two thirds of the database's CPU off each page (make bench). It
# pays only on a connection kept between requests, so it is off by default with
# CONN_MAX_AGE=0, the PgBouncer set-up, where a transaction pool would otherwise
# need max_prepared_statements above 0 (README).
if env_bool("DATABASE_PREPARED_STATEMENTS", default=CONN_MAX_AGE > 0):
    for _alias in DATABASES.values():
        if _alias["ENGINE"].endswith("postgresql"):
            _alias.setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# allauth keeps its rate limits in the cache: it must be shared by every
# worker, which the database cache is without another service. With REDIS_URL
# (redis://, or rediss:// with TLS; a password in the URL) the cache is Redis,
# and sessions are read from it and written through to the database, sparing
# each page a query; a sign-out deletes both copies.
REDIS_URL = os.getenv("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "consent.cache.RedisCache", "LOCATION": REDIS_URL}}
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "consent_cache",
        }
    }

AUTHENTICATION_BACKENDS = [
    "consent.access.ModelBackend",
    "consent.access.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_ADAPTER = "consent.adapters.AccountAdapter"
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = True
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "reset_password": "20/m/ip,5/m/key",
}
# Confirming it is you before an MFA change takes the password or the app,
# never a code mailed to the address: a mailbox alone must not be enough.
ACCOUNT_REAUTHENTICATION_METHODS = ["password", "mfa"]
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = os.getenv("MFA_TOTP_ISSUER", "同意台帳 consent ledger")

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", "日本語"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "consent" / "locale"]
TIME_ZONE = os.getenv("TIME_ZONE", "Asia/Tokyo")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# The console backend would write every confirmation (address and choice)
# into the logs, so outside DEBUG mail is off until a backend is configured.
_MAIL_DEFAULT = "console" if DEBUG else "dummy"
EMAIL_BACKEND = os.getenv("EMAIL_BACKEND", f"django.core.mail.backends.{_MAIL_DEFAULT}.EmailBackend")
EMAIL_HOST = os.getenv("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.getenv("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.getenv("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
# Seconds a mail server may take to answer: send_queued_mail sends each mail inside
# its row's transaction, holding the row's lock, and must not hang there for good.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = os.getenv("DEFAULT_FROM_EMAIL", "consent-ledger@localhost")
# Where links in emails point; the request is not at hand when mail is sent.
SITE_URL = os.getenv("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# Who people can turn to, shown on the help page and in account mails: free
# text such as "人事課 企画係 内線 1234 jinji@example.go.jp". Unset, the pages
# say to ask the office's HR section or union officer in person.
SUPPORT_CONTACT = os.getenv("SUPPORT_CONTACT", "")
HR_CONTACT = os.getenv("HR_CONTACT", "")
UNION_CONTACT = os.getenv("UNION_CONTACT", "")

# The witnessed log (docs/log-v2.md): checkpoints are signed notes under this
# origin, with this Ed25519 key in the note private-key form
# (PRIVATE+KEY+name+hash+key; `manage.py generate_log_key` makes one). With
# DEBUG on and none set, consent.log derives a development key from SECRET_KEY.
LOG_ORIGIN = os.getenv("LOG_ORIGIN") or urlsplit(SITE_URL).hostname + "/consent-log"
LOG_SIGNING_KEY = os.getenv("LOG_SIGNING_KEY", "")
if not DEBUG and not LOG_SIGNING_KEY:
    raise ImproperlyConfigured("With DEBUG off LOG_SIGNING_KEY must be set (manage.py generate_log_key).")
if LOG_SIGNING_KEY:
    # consent.chain is the standard-library verifier: safe to import before Django is set up.
    from consent.chain import NoteError, parse_private_key

    try:
        _log_key_name = parse_private_key(LOG_SIGNING_KEY).key.name
    except NoteError as error:
        raise ImproperlyConfigured(f"LOG_SIGNING_KEY is not a signing key: {error}") from None
    if _log_key_name != LOG_ORIGIN:
        raise ImproperlyConfigured(
            f"LOG_SIGNING_KEY is named {_log_key_name!r}, but LOG_ORIGIN is {LOG_ORIGIN!r}: they must match"
        )

SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 60 * 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "consent.errors.csrf_failure"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"outage": {"()": "consent.errors.OutageLogFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    # With the database down, one short line per request instead of a traceback.
    "loggers": {"django.request": {"filters": ["outage"]}},
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "WARNING")},
}
