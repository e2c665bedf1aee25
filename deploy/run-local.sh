#!/usr/bin/env bash
# Start the web server, one Celery worker and beat together on the embedded default
# (SQLite + Kombu's SQLAlchemy transport). Ctrl-C stops all three.
set -euo pipefail
PORT="${1:-5000}"
BIN=.venv/bin
export FLASK_APP=wsgi.py
# The local demo signs in with a password only; production requires two-factor (see README).
export COORD_REQUIRE_TOTP="${COORD_REQUIRE_TOTP:-false}"
# Links in emails and SMS point at this server's port (make run PORT=5106), unless a base URL of
# your own is set with COORD_BASE_URL.
export COORD_BASE_URL="${COORD_BASE_URL:-http://127.0.0.1:$PORT}"
mkdir -p instance

pids=()
stop() {
  trap - INT TERM EXIT
  echo; echo "Stopping web, worker and beat..."
  kill "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop INT TERM EXIT

# Emails go to a local SMTP sink that keeps them as files (instance/mail/new), unless an SMTP
# server of your own is set with COORD_SMTP_HOST/COORD_SMTP_PORT.
MAIL_NOTE="emails to your SMTP server at ${COORD_SMTP_HOST:-}:${COORD_SMTP_PORT:-25}"
if [ -z "${COORD_SMTP_HOST:-}" ] && $BIN/python -c "import socket; socket.create_connection(('127.0.0.1', 1025), 1)" 2>/dev/null; then
  MAIL_NOTE="emails to the SMTP server already listening on 127.0.0.1:1025"
elif [ -z "${COORD_SMTP_HOST:-}" ]; then
  mkdir -p instance/mail/new instance/mail/cur instance/mail/tmp
  $BIN/python -m aiosmtpd -n -u -l 127.0.0.1:1025 -c aiosmtpd.handlers.Mailbox instance/mail \
    >instance/smtp.log 2>&1 &
  pids+=($!)
  MAIL_NOTE="emails are kept as files in instance/mail/new (a local SMTP sink on port 1025)"
fi

$BIN/celery -A notifications.worker worker --loglevel=INFO --concurrency=1 \
  --hostname="worker-local@%h" >instance/worker.log 2>&1 &
pids+=($!)
$BIN/celery -A notifications.worker beat --loglevel=INFO \
  --schedule=instance/celerybeat-schedule >instance/beat.log 2>&1 &
pids+=($!)
$BIN/flask run --host 127.0.0.1 --port "$PORT" >instance/web.log 2>&1 &
pids+=($!)

for _ in $(seq 1 50); do
  if curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then break; fi
  sleep 0.3
done
cat <<MSG

  Samordning is running at http://127.0.0.1:$PORT
  (links in emails point at $COORD_BASE_URL)
  (web, one Celery worker and beat; logs in instance/*.log;
  $MAIL_NOTE; SMS in instance/sms.log)

  Demo logins, password for all: demo-losenord-2026
    admin@demo.example              administratör
    samordnare@demo.example         samordnare (team lead)
    koordinator@demo.example        koordinator
    remittent.kommun@demo.example   remittent (kommun)
    remittent.af@demo.example       remittent (Arbetsförmedlingen)
    ledamot.kommun@demo.example     ledamot i remissgruppen (also .af .fk .region)
    analytiker@demo.example         analytiker
    granskare@demo.example          loggranskare
    dataskydd@demo.example          dataskyddshandläggare (registerutdrag)
    admin2@demo.example             andra administratören (godkänner behörigheter)

  Two-factor login is off in this local demo (COORD_REQUIRE_TOTP=false);
  it is on by default everywhere else.

  Press Ctrl-C to stop.
MSG
wait -n "${pids[@]}"
echo "A process stopped; see instance/*.log"
