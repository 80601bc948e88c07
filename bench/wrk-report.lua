-- Shared by the wrk scripts: one machine-readable line with the figures and the per-thread counters.
local report = {}

local threads = {}

function report.setup(thread)
  table.insert(threads, thread)
end

function report.done(summary, latency)
  local gets, puts, bad = 0, 0, 0
  for _, thread in ipairs(threads) do
    gets = gets + (thread:get("gets") or 0)
    puts = puts + (thread:get("puts") or 0)
    bad = bad + (thread:get("bad") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"durationUs":%d,"gets":%d,"puts":%d,"badStatus":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"p50Us":%d,"p99Us":%d,"maxUs":%d}\n',
    summary.requests, summary.duration, gets, puts, bad,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end

return report
