# shellcheck shell=bash
# Postfix's smtp-sink(1) as the relay target of a benchmark. Sourced, not executed.
#
#   sink_start DIR PORT   smtp-sink -u postfix -c 127.0.0.1:PORT BACKLOG in the
#                         background; counters in DIR/sink.out, errors in DIR/sink.err
#   sink_count            messages received so far ("." answered; 0 before the first)
#   sink_sessions         SMTP sessions ended so far
#   sink_alive            the sink process still exists
#   sink_stop             SIGTERM (SIGKILL after 5 s), waits for it
#
# smtp-sink throws every message away (no -d/-D: nothing is stored) and answers
# 250 at once. With -c it writes "sess=N quit=N mesg=N" followed by \r to stdout
# whenever a session ends, QUIT arrives or "." is received (unbuffered), so the
# last record in DIR/sink.out is the current count. It must not run as root,
# hence -u postfix. -m (simultaneous connections, default 256) is raised to
# BENCH_SINK_MAXCONN (default 1000).

SINK_DIR=""
SINK_PORT=""
SINK_PID=""

sink_start() {
  SINK_DIR=$1
  SINK_PORT=$2
  mkdir -p "$SINK_DIR"
  : > "$SINK_DIR/sink.out"
  log "sink: starting smtp-sink on 127.0.0.1:$SINK_PORT"
  smtp-sink -u postfix -c -m "${BENCH_SINK_MAXCONN:-1000}" -h bench-sink.localdomain \
    "127.0.0.1:$SINK_PORT" 1000 >"$SINK_DIR/sink.out" 2>"$SINK_DIR/sink.err" &
  SINK_PID=$!
  if ! wait_smtp "$SINK_PORT" "$SINK_PID" 10; then
    warn "sink: smtp-sink did not greet on 127.0.0.1:$SINK_PORT: $(head -c 300 "$SINK_DIR/sink.err")"
    sink_stop
    return 1
  fi
  log "sink: running, pid $SINK_PID"
}

sink_alive() { [ -n "$SINK_PID" ] && kill -0 "$SINK_PID" 2>/dev/null; }

# _sink_field NAME: the NAME= value of the last complete (\r-terminated) record.
_sink_field() {
  local data
  data=$(tail -c 400 "$SINK_DIR/sink.out" 2>/dev/null)
  [[ $data == *$'\r'* ]] || { echo 0; return; }
  printf '%s\n' "${data%$'\r'*}" | tr '\r' '\n' |
    awk -v k="$1=" '{ for (i = 1; i <= NF; i++) if (index($i, k) == 1) v = substr($i, length(k) + 1) }
                    END { print v + 0 }'
}

sink_count()    { _sink_field mesg; }
sink_sessions() { _sink_field sess; }

sink_stop() {
  [ -n "$SINK_PID" ] || return 0
  local deadline
  if kill -0 "$SINK_PID" 2>/dev/null; then
    kill -TERM "$SINK_PID" 2>/dev/null || true
    deadline=$(( SECONDS + 5 ))
    while kill -0 "$SINK_PID" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.1; done
    kill -0 "$SINK_PID" 2>/dev/null && kill -KILL "$SINK_PID" 2>/dev/null
  fi
  wait "$SINK_PID" 2>/dev/null
  SINK_PID=""
}
