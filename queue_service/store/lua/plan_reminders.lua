-- Put one batch of a day's bookings on the branch's reminders, due at once: the sweep's step
-- at the eve of the day. Until then a booking keeps nothing for its reminder (an entry each,
-- kept from the confirmation to the eve, cost more Redis than anything else the SMS kept).
-- A booking gets its reminder if it stands for that day, its confirmation went out before
-- the reminder was due (one that went out later said it all) and no reminder was settled.
-- The last batch records when the day was planned (the caller marked it '0', begun, before
-- it read the day's bookings), and forgets days planned long ago.
-- KEYS: 1 the branch's reminders, 2 the branch's planned days, 3.. the batch's bookings
-- ARGV: 1 the day (ISO date), 2 when its reminders are due (ms), 3 '1' on the last batch,
--       4 planned days before this date are forgotten, 5.. the batch's codes
-- Returns how many reminders this batch planned
local due = tonumber(ARGV[2])
local planned = 0
for i = 3, #KEYS do
  local b = redis.call('HMGET', KEYS[i], 'status', 'date', 'sms:booked', 'sms:reminder')
  if b[1] == 'booked' and b[2] == ARGV[1] and b[3] and not b[4] then
    local state, settled_ms = string.match(b[3], '^([^,]*),([^,]*)')
    if state == 'sent' and tonumber(settled_ms) and tonumber(settled_ms) < due then
      planned = planned + redis.call('ZADD', KEYS[1], 'NX', due, ARGV[i + 2] .. ':reminder')
    end
  end
end
if ARGV[3] == '1' then
  local t = redis.call('TIME')
  redis.call('HSET', KEYS[2], ARGV[1], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
  for _, day in ipairs(redis.call('HKEYS', KEYS[2])) do
    if day < ARGV[4] then
      redis.call('HDEL', KEYS[2], day)
    end
  end
end
return planned
