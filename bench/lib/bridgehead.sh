# shellcheck shell=bash
# A throw-away Bridgehead gateway for benchmarks. Sourced, not executed.
#
#   bh_setup DIR PORT [RELAY]
#                       write DIR/bridgehead.toml (durable spool under DIR/spool,
#                       example.test -> discard connector, no TLS). With
#                       RELAY=HOST:PORT example.test goes to a type = "smtp"
#                       connector "relay" with smarthosts = [RELAY], tls = "none"
#                       (BENCH_BH_RELAY_CONNECTIONS, default 20, connections and
#                       BENCH_BH_RELAY_PER_CONNECTION, default 1000, messages each).
#   bh_start            bridgehead check-config, then bridgehead run -c CFG in the
#                       background (cwd DIR, output in DIR/bridgehead.log)
#   bh_verify           one swaks message, waits until the spool is empty again
#   bh_stop             SIGTERM, wait, SIGKILL if it does not exit
#   bh_queue_count      messages in incoming/ active/ deferred/ (on disk)
#   bh_alive            the gateway process still exists
#
# BRIDGEHEAD_BIN overrides the binary (default: <repo>/build/bridgehead).

BH_DIR=""
BH_PORT=""
BH_PID=""
BH_CFG=""

bh_setup() {
  BH_DIR=$1
  BH_PORT=$2
  local relay=${3:-} connector
  BH_CFG=$BH_DIR/bridgehead.toml
  mkdir -p "$BH_DIR/spool"
  if [ -n "$relay" ]; then
    connector="[[route]]
domains = [\"example.test\"]
connector = \"relay\"

[[connector]]
name = \"relay\"
type = \"smtp\"
smarthosts = [\"$relay\"]
tls = \"none\"
max_connections = ${BENCH_BH_RELAY_CONNECTIONS:-20}
max_messages_per_connection = ${BENCH_BH_RELAY_PER_CONNECTION:-1000}"
  else
    connector="[[route]]
domains = [\"example.test\"]
connector = \"bench-discard\"

[[connector]]
name = \"bench-discard\"
type = \"discard\""
  fi
  cat > "$BH_CFG" <<TOML
# Benchmark configuration written by bench/lib/bridgehead.sh.
[server]
hostname = "bench-bridgehead.localdomain"
threads = ${BENCH_BH_THREADS:-0}
log_level = "${BENCH_BH_LOG_LEVEL:-info}"

[[listener]]
address = "127.0.0.1:$BH_PORT"
starttls = false

[queue]
directory = "$BH_DIR/spool"

[limits]
connections = 20000
connections_per_ip = 1000
${BENCH_BH_LIMITS:-}

$connector
TOML
}

bh_alive() { [ -n "$BH_PID" ] && kill -0 "$BH_PID" 2>/dev/null; }

bh_start() {
  local bin=$BRIDGEHEAD_BIN rc
  [ -x "$bin" ] || { warn "bridgehead: binary $bin not found or not executable"; return 1; }
  if ! (cd "$BH_DIR" && "$bin" check-config -c "$BH_CFG") >"$BH_DIR/check-config.log" 2>&1; then
    warn "bridgehead: check-config rejected $BH_CFG:"
    cat "$BH_DIR/check-config.log" >&2
    return 1
  fi
  log "bridgehead: starting $bin run -c $BH_CFG (port $BH_PORT)"
  # The gateway needs a descriptor per connection.
  ( cd "$BH_DIR" && ulimit -n "${BENCH_NOFILE:-20000}" 2>/dev/null; exec "$bin" run -c "$BH_CFG" ) \
    >"$BH_DIR/bridgehead.log" 2>&1 &
  BH_PID=$!
  wait_smtp "$BH_PORT" "$BH_PID" 20
  rc=$?
  if [ $rc -ne 0 ]; then
    if [ $rc -eq 2 ]; then
      wait "$BH_PID" 2>/dev/null; rc=$?
      warn "bridgehead: exited during startup (status $rc); log tail:"
      BH_PID=""
    else
      warn "bridgehead: no 220 greeting on 127.0.0.1:$BH_PORT within 20 s; log tail:"
    fi
    tail -n 30 "$BH_DIR/bridgehead.log" >&2
    return 1
  fi
  log "bridgehead: running, pid $BH_PID ($(smtp_probe "$BH_PORT" 2 || echo 'no greeting'))"
}

bh_queue_count() {
  local d n=0 c
  for d in incoming active deferred; do
    [ -d "$BH_DIR/spool/$d" ] || continue
    c=$(find "$BH_DIR/spool/$d" -type f 2>/dev/null | wc -l)
    n=$(( n + c ))
  done
  echo "$n"
}

# bh_stuck_count: files in deferred/, hold/, corrupt/ and tmp/ (all should stay
# empty with a discard connector once the queue has drained).
bh_stuck_count() {
  local d n=0 c
  for d in hold corrupt deferred tmp; do
    [ -d "$BH_DIR/spool/$d" ] || continue
    c=$(find "$BH_DIR/spool/$d" -type f 2>/dev/null | wc -l)
    n=$(( n + c ))
  done
  echo "$n"
}

bh_verify() {
  local deadline
  if ! swaks --server 127.0.0.1 --port "$BH_PORT" --helo bench.localdomain \
      --from sender@example.net --to rcpt@example.test \
      --header "Subject: bench verification" >"$BH_DIR/swaks.log" 2>&1; then
    warn "bridgehead: swaks verification message failed:"
    tail -n 15 "$BH_DIR/swaks.log" >&2
    return 1
  fi
  # Accepted; the discard connector should empty the spool again shortly.
  deadline=$(( SECONDS + 20 ))
  while (( SECONDS < deadline )); do
    if [ "$(bh_queue_count)" -eq 0 ]; then
      log "bridgehead: verification message accepted and delivered (spool empty)"
      return 0
    fi
    bh_alive || { warn "bridgehead: died after the verification message"; return 1; }
    sleep 0.2
  done
  warn "bridgehead: verification message accepted but still in the spool after 20 s:"
  find "$BH_DIR/spool" -type f | head -n 10 >&2
  tail -n 20 "$BH_DIR/bridgehead.log" >&2
  return 1
}

bh_stop() {
  [ -n "$BH_PID" ] || return 0
  local deadline rc
  if kill -0 "$BH_PID" 2>/dev/null; then
    log "bridgehead: stopping pid $BH_PID"
    kill -TERM "$BH_PID" 2>/dev/null || true
    deadline=$(( SECONDS + 15 ))
    while kill -0 "$BH_PID" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.2; done
    if kill -0 "$BH_PID" 2>/dev/null; then
      warn "bridgehead: pid $BH_PID did not exit within 15 s of SIGTERM, sending SIGKILL"
      kill -KILL "$BH_PID" 2>/dev/null || true
    fi
  fi
  wait "$BH_PID" 2>/dev/null; rc=$?
  [ "$rc" -eq 0 ] || [ "$rc" -eq 143 ] || warn "bridgehead: exit status $rc"
  BH_PID=""
}
