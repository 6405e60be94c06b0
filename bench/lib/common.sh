# shellcheck shell=bash
# Shared helpers for the Bridgehead benchmarks. Sourced, not executed.

PY=/usr/bin/python3
BENCH_LIB_DIR=${BENCH_LIB_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}

log()  { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
warn() { printf '[%s] WARNING: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die()  { printf '[%s] ERROR: %s\n' "$(date +%H:%M:%S)" "$*" >&2; exit "${2:-1}"; }

# now: seconds since the epoch with microseconds (bash 5 EPOCHREALTIME).
now() { printf '%s\n' "${EPOCHREALTIME/,/.}"; }

# calc EXPR: floating point arithmetic via awk, e.g. calc "3 / 7".
calc() { awk "BEGIN { printf \"%.6f\", ($*) }"; }
# fmt DECIMALS NUMBER
fmt() { awk -v d="$1" -v n="$2" 'BEGIN { printf "%.*f", d, n }'; }

# free_port: an unused TCP port on 127.0.0.1 (the kernel picks it).
free_port() {
  "$PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# smtp_probe PORT [TIMEOUT]: succeeds once the server on 127.0.0.1:PORT sends
# a 220 greeting. Prints the greeting.
smtp_probe() {
  local port=$1 timeout=${2:-5} fd line
  # (a bare "exec ... 2>/dev/null" would silence stderr for the whole script)
  { exec {fd}<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || return 1
  if read -r -t "$timeout" -u "$fd" line && [[ $line == 220* ]]; then
    { printf 'QUIT\r\n' 1>&"$fd"; } 2>/dev/null || true
    exec {fd}>&-
    printf '%s\n' "${line%$'\r'}"
    return 0
  fi
  exec {fd}>&-
  return 1
}

# wait_smtp PORT PID SECONDS: wait until PORT greets with 220 while PID lives.
wait_smtp() {
  local port=$1 pid=$2 secs=$3 deadline
  deadline=$(( SECONDS + secs ))
  while (( SECONDS < deadline )); do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      return 2
    fi
    smtp_probe "$port" 2 >/dev/null && return 0
    sleep 0.2
  done
  return 1
}

# proc_tree PID: PID and all its descendants, one per line.
proc_tree() {
  local pid=$1 child
  [ -d "/proc/$pid" ] || return 0
  echo "$pid"
  for child in $(pgrep -P "$pid" 2>/dev/null); do
    proc_tree "$child"
  done
}

# mem_kib PID...: prints "RSS_KIB PSS_KIB NPROC" summed over the given PIDs.
# Pss (proportional set size) splits shared pages between the processes that
# map them, so summing it over a process tree is meaningful; summing Rss is
# not (shared libraries are counted once per process).
mem_kib() {
  local pid rss pss total_rss=0 total_pss=0 n=0
  for pid in "$@"; do
    if [ -r "/proc/$pid/smaps_rollup" ]; then
      read -r rss pss < <(awk '/^Rss:/ {r=$2} /^Pss:/ {p=$2} END {print r+0, p+0}' \
        "/proc/$pid/smaps_rollup" 2>/dev/null) || continue
    elif [ -r "/proc/$pid/status" ]; then
      rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || continue
      pss=$rss
    else
      continue
    fi
    total_rss=$(( total_rss + ${rss:-0} ))
    total_pss=$(( total_pss + ${pss:-0} ))
    n=$(( n + 1 ))
  done
  echo "$total_rss $total_pss $n"
}

# tree_mem_kib PID: mem_kib over PID and its descendants.
tree_mem_kib() {
  # shellcheck disable=SC2046
  mem_kib $(proc_tree "$1")
}

# scaled_count BASE: BASE * BENCH_SCALE rounded, never below MIN (2nd arg).
scaled_count() {
  awk -v b="$1" -v s="${BENCH_SCALE:-1}" -v m="${2:-1}" \
    'BEGIN { n = int(b * s + 0.5); if (n < m) n = m; print n }'
}
