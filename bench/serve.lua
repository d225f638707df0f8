-- wrk script for bench/bench_serve.sh: POSTs one image file as the raw body of /v1/check and,
-- at the end, prints one machine-readable line with the throughput, latency percentiles and
-- the count of each HTTP status (wrk itself lumps every status >= 400 into one number, and a
-- 429 from a full queue is expected by design at high concurrency, so it is kept apart).
--   wrk -t2 -c8 -d15s --latency -s bench/serve.lua http://127.0.0.1:PORT/v1/check -- IMAGE [TYPE]

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   local path = args[1]
   if not path then
      error("serve.lua: give the image file after --")
   end
   local f = assert(io.open(path, "rb"))
   wrk.body = f:read("*a")
   f:close()
   wrk.method = "POST"
   wrk.headers["Content-Type"] = args[2] or "image/png"
   statuses = {}
   verdicts = {}
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   local v = headers["Likeness-Verdict"]
   if v then
      verdicts[v] = (verdicts[v] or 0) + 1
   end
end

function done(summary, latency, requests)
   local counts, verdict_counts = {}, {}
   for _, thread in ipairs(threads) do
      local s = thread:get("statuses")
      for code, n in pairs(s or {}) do
         counts[code] = (counts[code] or 0) + n
      end
      local v = thread:get("verdicts")
      for verdict, n in pairs(v or {}) do
         verdict_counts[verdict] = (verdict_counts[verdict] or 0) + n
      end
   end
   local non2xx, codes = 0, {}
   for code, n in pairs(counts) do
      if code < 200 or code > 299 then
         non2xx = non2xx + n
      end
      table.insert(codes, string.format("status_%d=%d", code, n))
   end
   for verdict, n in pairs(verdict_counts) do
      table.insert(codes, string.format("verdict_%s=%d", verdict, n))
   end
   table.sort(codes)
   local seconds = summary.duration / 1e6
   local e = summary.errors
   io.write(string.format(
      "BENCH requests=%d seconds=%.3f rps=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f non2xx=%d " ..
      "errors_connect=%d errors_read=%d errors_write=%d errors_timeout=%d %s\n",
      summary.requests, seconds, summary.requests / seconds,
      latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
      latency.max / 1000, non2xx, e.connect, e.read, e.write, e.timeout, table.concat(codes, " ")))
end
