#!/usr/bin/env bash
# `make serve`: the production settings on this machine — gunicorn with deploy/gunicorn.conf.py on PostgreSQL
# (DATABASE_URL) or the embedded SQLite database, over plain HTTP on 127.0.0.1 for a trial (secure cookies and the
# HTTPS redirect off: put TLS in front for real use). A random secret key is kept in var/serve-secret-key.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var
if [ -z "${DJANGO_SECRET_KEY:-}" ]; then
  [ -s var/serve-secret-key ] || .venv/bin/python -c "import secrets; print(secrets.token_urlsafe(64))" > var/serve-secret-key
  chmod 600 var/serve-secret-key
  DJANGO_SECRET_KEY="$(cat var/serve-secret-key)"
fi
export DJANGO_SECRET_KEY
export DANGJIAN_ENV=production
export DJANGO_ALLOWED_HOSTS="${DJANGO_ALLOWED_HOSTS:-127.0.0.1,localhost}"
export DJANGO_SECURE_SSL_REDIRECT="${DJANGO_SECURE_SSL_REDIRECT:-0}"
export DJANGO_SECURE_COOKIES="${DJANGO_SECURE_COOKIES:-0}"
export DJANGO_SECURE_HSTS_SECONDS="${DJANGO_SECURE_HSTS_SECONDS:-0}"
export DANGJIAN_OTP_ENFORCE="${DANGJIAN_OTP_ENFORCE:-0}"
export DANGJIAN_BIND="${DANGJIAN_BIND:-127.0.0.1:8000}"
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py collectstatic --noinput -v0
echo "Serving the production settings on http://${DANGJIAN_BIND} (gunicorn, deploy/gunicorn.conf.py)"
exec .venv/bin/gunicorn -c deploy/gunicorn.conf.py dangjian.wsgi
