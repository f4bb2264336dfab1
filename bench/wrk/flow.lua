-- A participant's whole booking, request after request on each connection: POST a captcha,
-- GET its image (when BENCH_IMAGE=1), POST the booking naming it. Each thread keeps the
-- challenges it was given in queues, so its connections interleave the steps. A response does
-- not say which request it answers: a challenge is booked only once twice as many images as the
-- thread's connections have come back since its own image was asked for, so it is drawn.
-- The guess can still lose (an image answered slowly, its booking sent on another connection
-- and served first): such an image answers 404 not_found, counted as image_late, the load
-- generator's miss. No booking of the demo branch can answer 404.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local common = require("common")

setup = common.setup
done = common.done

local places, with_image, sent, in_flight = nil, false, 0, 1
local to_draw, drawing, to_book = {}, {}, {}

function init()
  places = common.places()
  with_image = os.getenv("BENCH_IMAGE") == "1"
  in_flight = tonumber(os.getenv("BENCH_CONNECTIONS")) / tonumber(os.getenv("BENCH_THREADS"))
end

local captcha = wrk.format("POST", "/api/v1/captcha", common.json_headers, "{}")

function request()
  if #to_draw > 0 then
    local id = table.remove(to_draw, 1)
    table.insert(drawing, id)
    return wrk.format("GET", "/api/v1/captcha/" .. id .. "/image.png")
  end
  if #to_book > 0 then
    sent = sent + 1
    return wrk.format("POST", "/api/v1/bookings", common.json_headers,
                      common.booking_body(sent, places, table.remove(to_book, 1)))
  end
  return captcha
end

function response(status, headers, body)
  local id = body:match('"captcha_id"%s*:%s*"([^"]+)"')
  if status == 201 and id then
    common.count("captcha")
    table.insert(with_image and to_draw or to_book, id)
  elseif status == 200 then
    common.count("image")
    if #drawing > 2 * in_flight then
      table.insert(to_book, table.remove(drawing, 1))
    end
  elseif status == 201 then
    common.count("booked")
  elseif status == 404 and body:find('"not_found"', 1, true) then
    common.count("image_late")
  else
    common.count("status_" .. status)
  end
end
