-- wrk has no rate flag: this script paces it. Each thread sends on a schedule of its own
-- (RATE / threads requests a second) and wrk asks delay() before every request, so a connection
-- waits for the thread's next free slot. A thread that falls behind (every connection busy, or
-- starved of CPU on a loaded machine) sends the missed requests as soon as it can, as clients
-- that keep arriving would, but only the last CATCH_UP_US's worth: a long stall is not one burst.
--
-- wrk counts no error when a connection is closed under a request it sent (it reconnects and
-- sends a new one), so the script counts what it sends: sent - answered is every request that
-- got no answer. To stop without requests in flight, the caller creates WRK_STOP_FILE: from
-- then on delay() holds every connection, and once the last answers are in, wrk gets SIGINT.
--
-- Settings come from the environment: WRK_RATE (total requests a second), WRK_THREADS,
-- WRK_STOP_FILE. done() prints one JSON line (prefixed "RESULT ") with the totals and latency
-- percentiles.
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
local STOP_CHECK_US = 50000
local HOLD_MS = 3600000
local threads = {}
local interval_us, next_slot, stop_file
local stop_checked_at, stopping = 0, false
-- wrk calls request() once in the first thread before it sends anything, to check the script;
-- every connection's first real request comes after a delay(), so counting starts there.
local counting = false
non2xx = 0
sent = 0

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local rate = tonumber(os.getenv("WRK_RATE"))
  local count = tonumber(os.getenv("WRK_THREADS"))
  interval_us = 1000000 * count / rate
  stop_file = os.getenv("WRK_STOP_FILE")
  next_slot = now_us()
end

function request()
  if counting then sent = sent + 1 end
  return wrk.format()
end

function delay()
  counting = true
  local now = now_us()
  if now - stop_checked_at > STOP_CHECK_US then
    stop_checked_at = now
    local f = io.open(stop_file, "r")
    if f then
      f:close()
      stopping = true
    end
  end
  if stopping then return HOLD_MS end
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
  local non, sent_total = 0, 0
  for _, t in ipairs(threads) do
    non = non + (t:get("non2xx") or 0)
    sent_total = sent_total + (t:get("sent") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"durationUs":%d,"sent":%d,"requests":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"non2xx":%d,"latencyUs":{"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d,"mean":%.1f}}\n',
    summary.duration, sent_total, summary.requests, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout, non,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max, latency.mean))
end
