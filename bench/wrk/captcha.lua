-- POST /api/v1/captcha, again and again.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local common = require("common")

setup = common.setup
done = common.done

local captcha = wrk.format("POST", "/api/v1/captcha", common.json_headers, "{}")

function request()
  return captcha
end

function response(status)
  common.count("status_" .. status)
end
