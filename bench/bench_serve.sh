#!/usr/bin/env bash
# Load test of `likeness serve` on loopback with wrk: requests/s and latency of POST /v1/check
# at concurrency 1, 8 and 32, PDQ-only and with the CNN embedding.
#
#   bench/bench_serve.sh            # after scripts/build.sh; about 5 minutes with the defaults
#
# Environment: OUT_DIR (default build/bench-serve), BUILD_DIR (default build), DURATION (s per
# run, default 15), WARMUP (s, default 3), CONCURRENCY (default "1 8 32"), MODES (default
# "hash-only embedding"), IMAGES (default "copy unrelated"), WORKERS and QUEUE (default: the
# server's own defaults).
#
# It builds nothing. The registry is the demo's, made in a temporary folder by
# scripts/demo-registry.sh: 30 Fluent Emoji characters (MIT, from the npm cache of
# scripts/fetch-art.sh), one reference each, with embeddings. "copy" posts one of those references as it is registered
# (so PDQ matches at 0 bits: the verdict is block), "unrelated" an emoji that is not registered
# (allow). The server keeps its default queue (QUEUE sets --queue); a request beyond workers +
# queue is answered 429 at once by design: those are counted in their own column, not as
# failures.
. "$(dirname "$0")/../scripts/on-error.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${BUILD_DIR:-"$root/build"}
out=${OUT_DIR:-"$bin/bench-serve"}
duration=${DURATION:-15}
warmup=${WARMUP:-3}
concurrency=${CONCURRENCY:-"1 8 32"}
modes=${MODES:-"hash-only embedding"}
images=${IMAGES:-"copy unrelated"}

die() { echo "bench_serve: $*" >&2; exit 1; }
[ -x "$bin/likeness" ] || die "no $bin/likeness: run scripts/build.sh first"
command -v wrk >/dev/null || die "wrk is not installed (apt-get install wrk)"
command -v vips >/dev/null || die "vips is not installed (apt-get install libvips-tools)"

mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/likeness-bench-serve.XXXXXX")
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== registry: the demo's 30 characters in $work/registry" >&2
mapfile -t characters < <("$root/scripts/demo-registry.sh" "$bin" "$work" llama)
[ "${#characters[@]}" -eq 30 ] || die "scripts/demo-registry.sh failed (see above)"
reg="$work/registry"
declare -A image_file=([copy]="$work/refs/cat-face.png" [unrelated]="$work/unrelated/llama.png")
declare -A image_verdict=([copy]=block [unrelated]=allow)

# GET a path over bash's /dev/tcp (no curl needed); prints the status code.
http_status() {
  local port=$1 path=$2 line
  exec 3<>"/dev/tcp/127.0.0.1/$port" || { echo 000; return; }
  printf 'GET %s HTTP/1.0\r\n\r\n' "$path" >&3
  IFS= read -r line <&3 || line=
  exec 3<&- 3>&-
  line=${line#HTTP/1.? }
  echo "${line%% *}"
}

start_server() {
  local mode=$1
  local args=(serve --registry "$reg" --port 0 --port-file "$work/port")
  [ "$mode" = hash-only ] && args+=(--hash-only)
  [ -n "${WORKERS:-}" ] && args+=(--workers "$WORKERS")
  [ -n "${QUEUE:-}" ] && args+=(--queue "$QUEUE")
  rm -f "$work/port"
  server_cmd="likeness ${args[*]}"
  "$bin/likeness" "${args[@]}" >"$work/server-$mode.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 600); do [ -s "$work/port" ] && break; sleep 0.1; done
  [ -s "$work/port" ] || die "the server wrote no port file: $(cat "$work/server-$mode.log")"
  port=$(cat "$work/port")
  for _ in $(seq 600); do [ "$(http_status "$port" /readyz)" = 200 ] && return; sleep 0.1; done
  die "the server never became ready: $(cat "$work/server-$mode.log")"
}

in_flight() {
  exec 3<>"/dev/tcp/127.0.0.1/$1" || { echo 0; return; }
  printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3
  sed -n 's/^likeness_checks_in_flight \([0-9]*\).*/\1/p' <&3
  exec 3<&- 3>&-
}

idle() {
  for _ in $(seq 300); do [ "$(in_flight "$1")" = 0 ] && { sleep 0.2; return; }; sleep 0.1; done
  die "checks still in flight 30 s after a run"
}

stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid" || die "the server exited $? after SIGTERM"
  server_pid=
}

threads_for() { [ "$1" -ge 2 ] && echo 2 || echo 1; }

results="$out/results.md"
raw="$out/wrk.txt"
: >"$raw"
{
  echo "# likeness serve under wrk"
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%MZ); commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "- machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- registry: ${#characters[@]} Fluent Emoji characters, one reference each, with embeddings"
  echo "- server: \`likeness serve --registry R --port 0 --port-file F [--hash-only]${WORKERS:+ --workers $WORKERS}${QUEUE:+ --queue $QUEUE}\`"
  echo "- client: \`wrk -tT -cC -d${duration}s --latency --timeout 10s -s bench/serve.lua http://127.0.0.1:PORT/v1/check -- IMAGE image/png\` after a ${warmup} s warm-up at the same concurrency; wrk shares the 2 cores with the server"
  echo "- copy: cat-face.png as registered ($(stat -c %s "${image_file[copy]}") bytes, verdict block); unrelated: llama.png ($(stat -c %s "${image_file[unrelated]}") bytes, allow)"
  echo
  echo "| mode | image | concurrency | requests/s | p50 ms | p99 ms | non-2xx | of which 429 | other errors | verdicts |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"
} >"$results"

notes=
for mode in $modes; do
  start_server "$mode"
  capacity=$(exec 3<>"/dev/tcp/127.0.0.1/$port"; printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3;
    sed -n 's/^likeness_queue_capacity \([0-9]*\).*/\1/p; s/^likeness_workers \([0-9]*\).*/\1/p' <&3 | tr '\n' ' ')
  notes+="- $mode server: likeness_queue_capacity, likeness_workers = $capacity"$'\n'
  echo "== $mode: $server_cmd (port $port; workers, capacity: $capacity)" >&2
  for image in $images; do
    file=${image_file[$image]}
    for c in $concurrency; do
      t=$(threads_for "$c")
      url="http://127.0.0.1:$port/v1/check"
      wrk -t"$t" -c"$c" -d"${warmup}s" --timeout 10s -s "$root/bench/serve.lua" "$url" -- "$file" image/png >/dev/null
      # wrk drops its connections with requests still queued at the end of a run; a run started
      # before the server has worked those off meets a full queue (and, measured, keeps getting
      # 429s long after), so wait until nothing is in flight.
      idle "$port"
      cmd="wrk -t$t -c$c -d${duration}s --latency --timeout 10s -s bench/serve.lua $url -- $file image/png"
      echo "-- $mode $image c=$c: $cmd" >>"$raw"
      wrk -t"$t" -c"$c" -d"${duration}s" --latency --timeout 10s -s "$root/bench/serve.lua" "$url" -- "$file" image/png \
        | tee -a "$raw" >"$work/run.txt"
      line=$(grep '^BENCH ' "$work/run.txt") || die "no BENCH line from wrk: $(cat "$work/run.txt")"
      get() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $line"; }
      s429=$(get status_429); s429=${s429:-0}
      other=$(( $(get errors_connect) + $(get errors_read) + $(get errors_write) + $(get errors_timeout) ))
      verdicts=$(grep -o 'verdict_[a-z]*=[0-9]*' <<<"$line" | sed 's/^verdict_//' | tr '\n' ' ')
      printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$mode" "$image" "$c" "$(get rps)" "$(get p50_ms)" \
        "$(get p99_ms)" "$(get non2xx)" "$s429" "$other" "${verdicts% }" >>"$results"
      echo "   $mode $image c=$c: $(get rps) req/s, p50 $(get p50_ms) ms, p99 $(get p99_ms) ms, non-2xx $(get non2xx) (429: $s429)" >&2
    done
  done
  stop_server
done
{
  echo
  printf '%s' "$notes"
  echo
  echo "Latency is per request as wrk measures it (connection kept alive), including any 429 answers, which"
  echo "return at once and so pull the percentiles down at concurrency 32: read them with the 429 column."
  echo "Raw wrk output: wrk.txt. Expected verdicts: copy ${image_verdict[copy]}, unrelated ${image_verdict[unrelated]}."
  echo "Load average after: $(cut -d' ' -f1-3 /proc/loadavg) (the machine may be shared: compare rows of one run only)."
} >>"$results"
echo "== $results" >&2
cat "$results"
