#!/usr/bin/env bash
# Starts (or stops) the ClickHouse servers the ClickHouse store tests use: N server processes on
# loopback, on non-default ports, each with its own data and log directories under one state
# directory and a generated config that also defines the two-shard cluster `eventlog_two_shards`.
#
#   scripts/clickhouse.sh start [N]   start N servers (default 2; server i listens on HTTP 18123+i,
#                                     TCP 19000+i, interserver 19009+i) and wait until they answer
#   scripts/clickhouse.sh stop [I…]   stop the servers this script started (only servers I… when given)
#   scripts/clickhouse.sh status      print which servers answer
#
# Idempotent: `start` leaves a server that already answers alone. Needs Debian's clickhouse-server
# (`apt-get install -y clickhouse-server clickhouse-client`). Environment:
#   EVENTLOG_CLICKHOUSE_DIR   state directory (default: ${TMPDIR:-/tmp}/eventlog-clickhouse)
#   EVENTLOG_CLICKHOUSE_BIN   server binary (default: clickhouse-server on PATH, else clickhouse on PATH)
#   EVENTLOG_CLICKHOUSE_HTTP_PORT, EVENTLOG_CLICKHOUSE_TCP_PORT, EVENTLOG_CLICKHOUSE_INTERSERVER_PORT
#                             first ports of the three ranges (default 18123, 19000, 19009)
set -euo pipefail

DIR="${EVENTLOG_CLICKHOUSE_DIR:-${TMPDIR:-/tmp}/eventlog-clickhouse}"
HTTP_BASE="${EVENTLOG_CLICKHOUSE_HTTP_PORT:-18123}"
TCP_BASE="${EVENTLOG_CLICKHOUSE_TCP_PORT:-19000}"
INTERSERVER_BASE="${EVENTLOG_CLICKHOUSE_INTERSERVER_PORT:-19009}"
CLUSTER=eventlog_two_shards

find_bin() {
  if [[ -n "${EVENTLOG_CLICKHOUSE_BIN:-}" ]]; then
    echo "$EVENTLOG_CLICKHOUSE_BIN"
  elif command -v clickhouse-server >/dev/null 2>&1; then
    command -v clickhouse-server
  elif command -v clickhouse >/dev/null 2>&1; then
    command -v clickhouse
  else
    echo "clickhouse-server not found: apt-get install -y clickhouse-server clickhouse-client" >&2
    return 1
  fi
}

ours() { # pid file: whether it names a running ClickHouse process (a stale pid may have been reused)
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 1
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q clickhouse
}

answers() { # http port
  local body
  body=$(curl -fsS --max-time 2 "http://127.0.0.1:$1/?query=SELECT%201" 2>/dev/null) && [[ "$body" == 1* ]]
}

write_config() { # index, count
  local i=$1 count=$2 root="$DIR/server-$1"
  mkdir -p "$root/data" "$root/tmp" "$root/user_files" "$root/format_schemas" "$root/log"
  local shards="" s
  for ((s = 0; s < count; s++)); do
    shards+="<shard><replica><host>127.0.0.1</host><port>$((TCP_BASE + s))</port></replica></shard>"
  done
  cat >"$root/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>$root/log/server.log</log>
    <errorlog>$root/log/server.err.log</errorlog>
    <size>10M</size>
    <count>2</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$((HTTP_BASE + i))</http_port>
  <tcp_port>$((TCP_BASE + i))</tcp_port>
  <interserver_http_port>$((INTERSERVER_BASE + i))</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <max_connections>256</max_connections>
  <keep_alive_timeout>10</keep_alive_timeout>
  <max_concurrent_queries>100</max_concurrent_queries>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <mark_cache_size>268435456</mark_cache_size>
  <path>$root/data/</path>
  <tmp_path>$root/tmp/</tmp_path>
  <user_files_path>$root/user_files/</user_files_path>
  <format_schema_path>$root/format_schemas/</format_schema_path>
  <users_config>$root/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
  <remote_servers>
    <$CLUSTER>$shards</$CLUSTER>
  </remote_servers>
  <macros><shard>$((i + 1))</shard><replica>127.0.0.1:$((TCP_BASE + i))</replica></macros>
</yandex>
XML
  cat >"$root/users.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <profiles>
    <default>
      <max_memory_usage>4000000000</max_memory_usage>
      <load_balancing>in_order</load_balancing>
    </default>
  </profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas>
    <default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default>
  </quotas>
</yandex>
XML
}

start() {
  local count=${1:-2} bin i pending=()
  bin=$(find_bin)
  mkdir -p "$DIR"
  for ((i = 0; i < count; i++)); do
    local port=$((HTTP_BASE + i)) root="$DIR/server-$i"
    if answers "$port"; then
      echo "clickhouse $i already answers on 127.0.0.1:$port"
      continue
    fi
    # A stale pid file from a crashed run must not stop the new server.
    if ours "$root/pid"; then
      pending+=("$i")
      continue
    fi
    write_config "$i" "$count"
    rm -f "$root/pid"
    # The Debian binary dispatches on argv[0] or the first argument: call it as "server" either way.
    local args=(--config-file="$root/config.xml")
    if [[ "$(basename "$bin")" == clickhouse-server ]]; then
      nohup "$bin" "${args[@]}" >"$root/log/stdout.log" 2>&1 </dev/null &
    else
      nohup "$bin" server "${args[@]}" >"$root/log/stdout.log" 2>&1 </dev/null &
    fi
    echo $! >"$root/pid"
    pending+=("$i")
  done
  for i in "${pending[@]}"; do
    local port=$((HTTP_BASE + i)) ok=0
    for _ in $(seq 1 120); do
      if answers "$port"; then ok=1; break; fi
      if ! ours "$DIR/server-$i/pid"; then break; fi
      sleep 0.5
    done
    if [[ $ok != 1 ]]; then
      echo "clickhouse $i did not come up on 127.0.0.1:$port; last log lines:" >&2
      tail -n 20 "$DIR/server-$i/log/server.err.log" "$DIR/server-$i/log/stdout.log" >&2 2>/dev/null || true
      return 1
    fi
    echo "clickhouse $i is up on 127.0.0.1:$port (tcp $((TCP_BASE + i)))"
  done
}

stop() {
  local root pid roots=() i
  shopt -s nullglob
  if (($#)); then
    for i in "$@"; do roots+=("$DIR/server-$i"); done
  else
    roots=("$DIR"/server-*)
  fi
  for root in "${roots[@]}"; do
    [[ -f "$root/pid" ]] || continue
    pid=$(cat "$root/pid")
    if ours "$root/pid"; then
      kill "$pid"
      for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
      echo "stopped clickhouse in $root"
    fi
    rm -f "$root/pid"
  done
}

status() {
  local i
  for ((i = 0; i < ${1:-2}; i++)); do
    if answers $((HTTP_BASE + i)); then echo "clickhouse $i: up on 127.0.0.1:$((HTTP_BASE + i))"; else echo "clickhouse $i: down"; fi
  done
}

case "${1:-}" in
  start) start "${2:-2}" ;;
  stop) shift; stop "$@" ;;
  status) status "${2:-2}" ;;
  *) echo "usage: $0 start [N] | stop | status [N]" >&2; exit 2 ;;
esac
