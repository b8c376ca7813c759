#!/usr/bin/env bash
# Fills the placeholders (@NAME@) of a demo config template from the
# environment: render_config.sh TEMPLATE OUTPUT. Fails, naming it, when a
# placeholder has no variable, so no config starts half filled in.
set -euo pipefail
template="$1" output="$2"
text="$(cat "$template")"
for name in $(grep -o '@[A-Z_]*@' "$template" | tr -d @ | sort -u); do
  if [ -z "${!name+x}" ]; then
    echo "render_config.sh: $template needs \$$name" >&2
    exit 1
  fi
  text="${text//@${name}@/${!name}}"
done
printf '%s\n' "$text" >"$output"
