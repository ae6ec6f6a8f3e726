#!/usr/bin/env bash
# Installs the real agent CLIs (Claude Code, Codex, Gemini CLI, OpenCode) that the agent tests drive
# against a scripted model server, into test/agent-clis/node_modules at the versions its
# package-lock.json pins. They are a test dependency set of their own: the root package.json does not
# name them, so a user's `npm install` never fetches them (about 1.3 GB).
#
# Idempotent: a stamp holding the lock's hash is written after a good install; with the stamp
# matching and every binary answering --version, nothing is fetched.
#
# Install scripts: test/agent-clis/package.json lists them under allowScripts. Claude Code and
# OpenCode need theirs (each copies its platform binary over the bin/ placeholder); Codex finds its
# platform package at run time and Gemini CLI is a JavaScript bundle. The native builds pulled in as
# optional extras (keytar, node-pty 1.0, msgpackr-extract) are denied: nothing here uses them and
# node-gyp would compile them on every install.
#
# The lock: the registry this project's machines reach serves OpenCode's platform packages for
# linux-x64 only (the others answer 404), so `npm install` leaves the other ten out of the lock and
# `npm ci` then refuses it as out of sync with opencode-ai's optionalDependencies. Their entries
# were added by hand (version, os and cpu, no integrity): npm skips the other platforms' and, for the
# two linux-x64 musl builds, fails to fetch them and carries on, as with any optional dependency.
# Redo that after regenerating the lock.
set -euo pipefail
dir="$(cd "$(dirname "$0")/.." && pwd)/test/agent-clis"
stamp="$dir/node_modules/.cook-installed"
log() { printf 'install-agent-clis: %s\n' "$*" >&2; }

lock_hash() { cat "$dir/package.json" "$dir/package-lock.json" | sha256sum | cut -d' ' -f1; }

# Each CLI prints its version; run with stdin closed and a throwaway HOME so nothing reads this
# machine's logins, and compare with the pinned version.
check_versions() {
  local home bin want got
  home="$(mktemp -d)"
  for entry in claude:@anthropic-ai/claude-code codex:@openai/codex gemini:@google/gemini-cli opencode:opencode-ai; do
    bin="${entry%%:*}"
    want="$(node -p "require('$dir/package.json').dependencies['${entry#*:}']")"
    got="$(HOME="$home" CODEX_HOME="$home/.codex" timeout 60 "$dir/node_modules/.bin/$bin" --version </dev/null 2>/dev/null || true)"
    if [[ "$got" != *"$want"* ]]; then
      rm -rf "$home"
      log "$bin --version printed '${got}', wanted $want"
      return 1
    fi
  done
  rm -rf "$home"
}

if [[ -f "$stamp" && "$(cat "$stamp")" == "$(lock_hash)" ]] && check_versions 2>/dev/null; then
  log "already installed at the locked versions"
  exit 0
fi

log "installing into $dir (npm ci)"
rm -f "$stamp"
npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
check_versions || { log "an installed CLI does not run"; exit 1; }
lock_hash >"$stamp"
log "installed: $(du -sh "$dir/node_modules" | cut -f1)"
