# shellcheck shell=bash
# A private, throw-away Postfix instance for benchmarks. Sourced, not executed.
#
#   pf_setup DIR PORT [RELAY]
#                       write DIR/etc/{main.cf,master.cf}; queue and data dirs under DIR.
#                       Without RELAY every message goes to discard(8); with
#                       RELAY=HOST:PORT (an IP address) everything is relayed
#                       there by the smtp(8) client (relayhost = [HOST]:PORT).
#   pf_start            postfix -c DIR/etc start (never the system instance)
#   pf_verify           one swaks message, waits until it was logged status=sent
#   pf_stop             postfix -c DIR/etc stop, waits for the master to exit
#   pf_queue_count      messages still in the queue (maildrop/incoming/active/deferred/hold)
#   pf_master_pid       PID of this instance's master process
#
# Every accepted message goes to the discard(8) transport (or, in relay mode, to
# the smtp(8) client and the relay host: plain text, no MX lookup). The instance runs
# as root with mail_owner=postfix, no chroot, loopback only, and logs to
# DIR/maillog through postlogd (no syslog needed).

PF_DIR=""
PF_PORT=""
PF_RELAY=""
PF_STARTED=0

pf_setup() {
  PF_DIR=$1
  PF_PORT=$2
  PF_RELAY=${3:-}
  local limit=${BENCH_POSTFIX_PROCESS_LIMIT:-200} transport_cf extra_services=""
  if [ -n "$PF_RELAY" ]; then
    transport_cf="# Every accepted message is relayed to the sink by the smtp(8) client
# (default_destination_concurrency_limit = 20 and connection caching: defaults).
relayhost = [${PF_RELAY%:*}]:${PF_RELAY##*:}
default_transport = smtp
relay_transport = smtp
local_transport = error:local delivery is disabled
virtual_transport = error:virtual delivery is disabled
smtp_tls_security_level = none"
    extra_services="smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp"
  else
    transport_cf="# Every accepted message is thrown away by the discard(8) agent.
default_transport = discard
relay_transport = discard
local_transport = discard
virtual_transport = discard"
  fi
  mkdir -p "$PF_DIR/etc" "$PF_DIR/queue" "$PF_DIR/data"
  # post-install wants the queue root owned by root and the data dir by postfix.
  chown root:root "$PF_DIR/queue"
  chmod 755 "$PF_DIR" "$PF_DIR/etc" "$PF_DIR/queue"
  chown postfix:postfix "$PF_DIR/data"
  : > "$PF_DIR/maillog"
  chown postfix:postfix "$PF_DIR/maillog"

  cat > "$PF_DIR/etc/main.cf" <<MAINCF
# Private benchmark instance written by bench/lib/postfix.sh. Not the system Postfix.
compatibility_level = 3.6
queue_directory = $PF_DIR/queue
data_directory = $PF_DIR/data
mail_owner = postfix
setgid_group = postdrop
myhostname = bench-postfix.localdomain
mydomain = localdomain
myorigin = \$myhostname
inet_interfaces = loopback-only
inet_protocols = ipv4
mydestination =
mynetworks = 127.0.0.0/8
mynetworks_style = host
relay_domains =
$transport_cf
alias_maps =
alias_database =
local_recipient_maps =
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions =
smtpd_peername_lookup = no
smtpd_client_connection_count_limit = $limit
default_process_limit = $limit
biff = no
append_dot_mydomain = no
maillog_file = $PF_DIR/maillog
${BENCH_POSTFIX_EXTRA_MAIN_CF:-}
MAINCF

  cat > "$PF_DIR/etc/master.cf" <<MASTERCF
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:$PF_PORT inet n       -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
$extra_services
MASTERCF

  postconf -c "$PF_DIR/etc" -n >/dev/null 2>"$PF_DIR/postconf.err" || {
    cat "$PF_DIR/postconf.err" >&2
    return 1
  }
}

pf_master_pid() {
  local f="$PF_DIR/queue/pid/master.pid"
  [ -r "$f" ] || return 1
  local pid
  pid=$(awk 'NR == 1 { print $1 }' "$f")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

pf_start() {
  log "postfix: starting private instance (config $PF_DIR/etc, port $PF_PORT)"
  if ! postfix -c "$PF_DIR/etc" start >"$PF_DIR/start.log" 2>&1; then
    cat "$PF_DIR/start.log" >&2
    tail -n 20 "$PF_DIR/maillog" >&2
    return 1
  fi
  PF_STARTED=1
  local pid
  pid=$(pf_master_pid) || { warn "postfix: no master.pid after start"; return 1; }
  if ! wait_smtp "$PF_PORT" "$pid" 15; then
    warn "postfix: no 220 greeting on 127.0.0.1:$PF_PORT"
    tail -n 20 "$PF_DIR/maillog" >&2
    return 1
  fi
  log "postfix: running, master pid $pid"
}

# pf_sent_count: deliveries the discard agent (relay mode: the smtp client) has
# logged so far.
pf_sent_count() {
  grep -Ec 'postfix/(discard|smtp)\[[0-9]+\]: .* status=sent' "$PF_DIR/maillog" 2>/dev/null || true
}

pf_verify() {
  local before deadline
  before=$(pf_sent_count)
  if ! swaks --server 127.0.0.1 --port "$PF_PORT" --helo bench.localdomain \
      --from sender@example.net --to rcpt@example.test \
      --header "Subject: bench verification" >"$PF_DIR/swaks.log" 2>&1; then
    warn "postfix: swaks verification message failed:"
    tail -n 15 "$PF_DIR/swaks.log" >&2
    return 1
  fi
  deadline=$(( SECONDS + 20 ))
  while (( SECONDS < deadline )); do
    if (( $(pf_sent_count) > before )); then
      if [ -n "$PF_RELAY" ]; then
        log "postfix: verification message accepted and relayed to $PF_RELAY"
      else
        log "postfix: verification message accepted and discarded"
      fi
      return 0
    fi
    sleep 0.2
  done
  warn "postfix: verification message accepted but never logged status=sent; maillog tail:"
  tail -n 20 "$PF_DIR/maillog" >&2
  return 1
}

pf_queue_count() {
  local d n=0 c
  for d in maildrop incoming active deferred hold; do
    [ -d "$PF_DIR/queue/$d" ] || continue
    c=$(find "$PF_DIR/queue/$d" -type f 2>/dev/null | wc -l)
    n=$(( n + c ))
  done
  echo "$n"
}

pf_stop() {
  [ "$PF_STARTED" = 1 ] || return 0
  local pid deadline
  pid=$(pf_master_pid) || pid=""
  log "postfix: stopping private instance"
  postfix -c "$PF_DIR/etc" stop >>"$PF_DIR/start.log" 2>&1 || true
  if [ -n "$pid" ]; then
    deadline=$(( SECONDS + 15 ))
    while kill -0 "$pid" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      warn "postfix: master $pid still running, killing its process group"
      kill -9 -- "-$pid" 2>/dev/null || kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  PF_STARTED=0
}
