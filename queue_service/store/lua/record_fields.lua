-- The fields of a new record (a booking, or a waitlist entry) as HSET takes them and, with a
-- hold time (PHONE_VERIFICATION), those of its hold for the phone's one-time code: until when,
-- the code, and its first send now. One place for reserve.lua and waitlist_join.lua.
-- ARGV: 1 the record's fields (JSON object of strings), 2 the hold time (ms; 0: no hold),
--       3 the one-time code, 4 now (ms, Redis's clock)
-- Returns the flat list of fields and values, and the hold's deadline (ms; nil without one)
local flat = {}
for field, value in pairs(cjson.decode(ARGV[1])) do
  flat[#flat + 1] = field
  flat[#flat + 1] = value
end
local hold_ms = tonumber(ARGV[2])
if hold_ms <= 0 then
  return flat, nil
end
local now = tonumber(ARGV[4])
local verify_by = now + hold_ms
for _, pair in ipairs({{'verify_by_ms', verify_by}, {'otp', ARGV[3]}, {'otp_sends', 1}, {'otp_sent_ms', now}}) do
  flat[#flat + 1] = pair[1]
  flat[#flat + 1] = pair[2]
end
return flat, verify_by
