-- GET the URL wrk was given (the minimal app, /healthz, availability); counts by status.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local common = require("common")

setup = common.setup
done = common.done

function response(status)
  common.count("status_" .. status)
end
