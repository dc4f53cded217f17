#!/bin/sh
# One checked backup of the bot's database, then only the newest KEEP_BACKUPS are kept.
# Run by kpu-bot-backup.service; by hand or from cron the same way, e.g.
#   BACKUP_DIR=/srv/kpu-backups KEEP_BACKUPS=30 sh deploy/backup.sh
# Settings (DATABASE_PATH, ...) come from the environment as for the bot.
set -eu
dir="${BACKUP_DIR:-backups}"
keep="${KEEP_BACKUPS:-14}"
kpu_bot="${KPU_BOT:-kpu-bot}"  # may be several words, e.g. "python -m bot"
mkdir -p "$dir"
# shellcheck disable=SC2086 # $kpu_bot is split into words on purpose
$kpu_bot backup "$dir/bot-$(date -u +%Y%m%dT%H%M%SZ).sqlite3"
# names sort by time; the newest $keep stay
ls -1 "$dir" | grep -E '^bot-[0-9]{8}T[0-9]{6}Z\.sqlite3$' | sort -r | tail -n +"$((keep + 1))" | while IFS= read -r old; do
    rm -f -- "$dir/$old"
done
