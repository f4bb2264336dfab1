-- POST /api/v1/bookings alone (or BENCH_PATH, a floor route of bench/floor_app.py): each
-- attempt names a fresh captcha challenge that the bench created ahead (BENCH_CAPTCHAS, one id
-- a line; thread k of n takes lines k, k + n, ...), and a participant of its own.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local common = require("common")

setup = common.setup
done = common.done

local places, captchas, sent = nil, {}, 0
local path = os.getenv("BENCH_PATH") or "/api/v1/bookings"

function init()
  places = common.places()
  local threads = tonumber(os.getenv("BENCH_THREADS"))
  local line = 0
  for id in io.lines(os.getenv("BENCH_CAPTCHAS")) do
    if line % threads == thread_id - 1 then
      table.insert(captchas, id)
    end
    line = line + 1
  end
end

function request()
  sent = sent + 1
  local captcha_id = captchas[sent]
  if captcha_id == nil then
    common.count("out_of_captchas")
    captcha_id = "none"
  end
  return wrk.format("POST", path, common.json_headers,
                    common.booking_body(sent, places, captcha_id))
end

function response(status)
  common.count(status == 201 and "booked" or "status_" .. status)
end
