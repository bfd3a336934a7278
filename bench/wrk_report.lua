-- wrk script for bench/run.sh: at the end of a run, print one line
-- "WRK_JSON {...}" with exact counts and latency percentiles (microseconds).
-- Optional: WRK_METHOD / WRK_HEADER ("Name: value") from the environment.
-- A fixed number of requests (run with -t1 and a long -d): WRK_REQUESTS=N stops the thread after
-- N responses and creates the file WRK_DONE_FILE, on which run.sh sends wrk SIGINT (wrk then
-- prints its numbers at once; a signal sent from inside wrk is not reliably seen by its main
-- thread). With C connections up to C-1 more requests may already be in flight: the JSON counts
-- the responses wrk read.

local method = os.getenv("WRK_METHOD")
if method and method ~= "" then wrk.method = method end
local header = os.getenv("WRK_HEADER")
if header and header ~= "" then
  local name, value = header:match("^([^:]+):%s*(.*)$")
  if name then wrk.headers[name] = value end
end

local quota = tonumber(os.getenv("WRK_REQUESTS") or "") or 0
local done_file = os.getenv("WRK_DONE_FILE")
if quota > 0 then
  -- Defined only then: a response() makes wrk hand every response to Lua, which costs throughput.
  local seen = 0
  function response(status, headers, body)
    seen = seen + 1
    if seen == quota then
      wrk.thread:stop()
      if done_file and done_file ~= "" then
        local f = io.open(done_file, "w")
        if f then f:close() end
      end
    end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"duration_us":%d,"requests":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"min":%d,"mean":%.1f,"stdev":%.1f,"max":%d,' ..
    '"p50":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
    summary.duration, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9)))
end
