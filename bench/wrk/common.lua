-- Shared by the wrk scripts of bench/service_http.py: thread ids, counts of what each thread
-- saw, participants with valid unique NIKs and phones, and one JSON line of results.
local M = {}

local threads = {}

-- Called by wrk in the main state, once per thread, before the thread's init().
function M.setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

-- A valid NIK (Jakarta Pusat, 317101) for any whole number below 9999 * 28 * 12 * 100:
-- the number picks the sequence (0001-9999), then the birth day, month and year.
function M.nik(n)
  local sequence = n % 9999 + 1
  n = math.floor(n / 9999)
  local day = n % 28 + 1
  n = math.floor(n / 28)
  local month = n % 12 + 1
  local year = math.floor(n / 12) % 100
  return string.format("317101%02d%02d%02d%04d", day, month, year, sequence)
end

-- The places to book: BENCH_PLACES is "branch date slot;..." (open days and slots only).
function M.places()
  local places = {}
  for branch, date, slot in string.gmatch(os.getenv("BENCH_PLACES") or "", "([^%s;]+) ([^%s;]+) ([^%s;]+)") do
    table.insert(places, {branch = branch, date = date, slot = slot})
  end
  return places
end

-- The n-th participant of this wrk run and thread: unique across runs (BENCH_RUN) and
-- threads, so no two attempts share a NIK or a phone (both limited per person).
function M.booking_body(n, places, captcha_id)
  local unique = (tonumber(os.getenv("BENCH_RUN") or "0") * 16 + thread_id) * 1000000 + n
  local place = places[n % #places + 1]
  return string.format(
    '{"branch_id":"%s","service_id":"jht","date":"%s","slot":"%s","name":"Peserta Uji",'
    .. '"nik":"%s","kpj":"12345678901","phone":"+62812%08d","captcha_id":"%s",'
    .. '"captcha_answer":"%s"}',
    place.branch, place.date, place.slot, M.nik(unique), unique % 100000000, captcha_id,
    os.getenv("BENCH_CAPTCHA_ANSWER") or "")
end

M.json_headers = {["Content-Type"] = "application/json"}

-- Per thread: a count per kind of answer ("booked", "status_409", ...).
counts = {}
function M.count(kind)
  counts[kind] = (counts[kind] or 0) + 1
end

-- One line, "BENCH {json}", that bench/service_http.py reads.
function M.done(summary, latency, requests)
  local totals = {}
  for _, thread in ipairs(threads) do
    for kind, count in pairs(thread:get("counts") or {}) do
      totals[kind] = (totals[kind] or 0) + count
    end
  end
  local parts = {}
  for kind, count in pairs(totals) do
    table.insert(parts, string.format('"%s":%d', kind, count))
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,'
    .. '"socket_errors":%d,"non_2xx":%d,"counts":{%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, errors.connect + errors.read + errors.write + errors.timeout, errors.status,
    table.concat(parts, ",")))
end

return M
