-- wrk has no rate flag: this script paces it. Each thread sends on a schedule of its own
-- (RATE / threads requests a second) and wrk asks delay() before every request, so a connection
-- waits for the thread's next free slot. A thread that falls behind (every connection busy, or
-- starved of CPU on a loaded machine) sends the missed requests as soon as it can, as clients
-- that keep arriving would, but only the last CATCH_UP_US's worth: a long stall is not one burst.
-- Settings come from the environment: WRK_RATE (total requests a second), WRK_THREADS.
-- done() prints one JSON line (prefixed "RESULT ") with the totals and latency percentiles.
local ffi = require("ffi")
ffi.cdef[[
  typedef struct { long tv_sec; long tv_nsec; } timespec_t;
  int clock_gettime(int clk, timespec_t *tp);
]]
local CLOCK_MONOTONIC = 1
local ts = ffi.new("timespec_t")
local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) * 1000000 + tonumber(ts.tv_nsec) / 1000
end

local CATCH_UP_US = 2000000
local threads = {}
local interval_us, next_slot
non2xx = 0

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local rate = tonumber(os.getenv("WRK_RATE"))
  local count = tonumber(os.getenv("WRK_THREADS"))
  interval_us = 1000000 * count / rate
  next_slot = now_us()
end

function delay()
  local now = now_us()
  if next_slot < now - CATCH_UP_US then next_slot = now - CATCH_UP_US end
  local wait = next_slot - now
  next_slot = next_slot + interval_us
  if wait <= 0 then return 0 end
  return math.floor(wait / 1000)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local non = 0
  for _, t in ipairs(threads) do non = non + (t:get("non2xx") or 0) end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"durationUs":%d,"requests":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"non2xx":%d,"latencyUs":{"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d,"mean":%.1f}}\n',
    summary.duration, summary.requests, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout, non,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max, latency.mean))
end
