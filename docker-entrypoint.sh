#!/bin/sh
# First start: copy the example config. Then drop to PUID:PGID, so the files written into
# the library and /config belong to the media user, never to root.
set -e
cd /config
[ -f /config/config.toml ] || cp /app/config.example.toml /config/config.toml
mkdir -p /config/data
if [ "$(id -u)" = 0 ]; then
  # Only our own folders: /media is the user's library and keeps its ownership.
  # A read-only config.toml or a root-squashed NFS share cannot be chowned; carry on.
  chown "$PUID:$PGID" /config /config/data /config/config.toml 2>/dev/null \
    || echo "docker-entrypoint: cannot chown /config to $PUID:$PGID; it must be writable by that user" >&2
  exec gosu "$PUID:$PGID" "$@"
fi
exec "$@"
