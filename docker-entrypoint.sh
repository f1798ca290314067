#!/bin/sh
# Run as PUID:PGID so files written into the library belong to the media user.
set -e
[ -f /config/config.toml ] || cp /app/config.example.toml /config/config.toml
mkdir -p /config/data
if [ "$(id -u)" = 0 ]; then
  chown "$PUID:$PGID" /config /config/data
  exec gosu "$PUID:$PGID" "$@"
fi
exec "$@"
