--! uses place_refusal
-- Move a booked place to another slot or date of the same branch in one step: the new
-- place is taken and the old one freed together, so the participant never holds none or
-- two. On another day the queue number is the new day's next one; on the same day it stays.
-- Quotas, closures and settings are checked here by the same part as reserve.lua's.
-- Safe to run twice for one request (a client that re-sent it after a lost reply): the
-- second run finds its own token on the booking and answers as the first did.
-- KEYS: 1 settings, 2 date overrides, 3 the branch's copy of the national closures,
--       4 the booking, 5 old slot counts, 6 old day counts, 7 old day's booking index,
--       8 new slot counts, 9 new day counts, 10 new queue sequence, 11 new day's booking index,
--       12 the branch's SMS reminders, 13 the branch's days whose reminders are planned,
--       14 the new date's waitlist waiters
-- ARGV: 1 code, 2 old date, 3 old slot, 4 new date, 5 new slot, 6 new slot end,
--       7 service prefix, 8 claim_at_ms ('' on the same day: no new NIK claim),
--       9 claim_window_ms, 10 expire_at_ms, 11 request token,
--       12 SHA-1 of the settings the slot was computed from, 13 least time to keep keys (ms)
-- Returns {'ok', queue_number} | {'missing'} | {'status', current} | {'moved'} | {refusal}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local booking = redis.call('HMGET', KEYS[4], 'status', 'date', 'slot', 'service_id',
                           'reschedule_token', 'queue_number')
if not booking[1] then
  return {'missing'}
end
if booking[5] == ARGV[11] then
  return {'ok', booking[6]}
end
if booking[1] ~= 'booked' then
  return {'status', booking[1]}
end
-- The caller named the old place's keys from what it read: it must still be the place.
if booking[2] ~= ARGV[2] or booking[3] ~= ARGV[3] then
  return {'moved'}
end
local same_day = ARGV[2] == ARGV[4]
if same_day and ARGV[3] == ARGV[5] then
  return {'not_bookable'}
end
if ARGV[8] ~= '' and now - tonumber(ARGV[8]) > tonumber(ARGV[9]) then
  return {'claim_expired'}
end
-- On the same day the booking already counts against the day's quotas.
local refused = place_refusal({KEYS[1], KEYS[2], KEYS[3], KEYS[9], KEYS[8], KEYS[14]},
                              {ARGV[12], ARGV[4], booking[4], ARGV[5], same_day and '' or '1'})
if refused then
  return refused
end
local service_field = 'svc:' .. booking[4]
redis.call('HINCRBY', KEYS[5], ARGV[3], -1)
redis.call('HINCRBY', KEYS[8], ARGV[5], 1)
local queue_number = booking[6]
if not same_day then
  redis.call('HINCRBY', KEYS[6], 'total', -1)
  redis.call('HINCRBY', KEYS[6], service_field, -1)
  redis.call('LREM', KEYS[7], 0, ARGV[1])
  redis.call('HINCRBY', KEYS[9], 'total', 1)
  redis.call('HINCRBY', KEYS[9], service_field, 1)
  redis.call('RPUSH', KEYS[11], ARGV[1])
  local sequence = redis.call('HINCRBY', KEYS[10], booking[4], 1)
  queue_number = string.format('%s-%03d', ARGV[7], sequence)
  -- Into a day whose eve has come (plan_reminders.lua has been): the reminder is due at once,
  -- by the same rule. A reminder already planned for the old day is due at once too: the
  -- worker that takes it sends it, or puts it off to the new day's eve.
  local reminder = ARGV[1] .. ':reminder'
  local sms = redis.call('HMGET', KEYS[4], 'sms:booked', 'sms:reminder')
  if redis.call('HEXISTS', KEYS[13], ARGV[4]) == 1 and sms[1]
      and string.match(sms[1], '^[^,]*') == 'sent' and not sms[2] then
    redis.call('ZADD', KEYS[12], 0, reminder)
  else
    redis.call('ZADD', KEYS[12], 'XX', 0, reminder)
  end
end
redis.call('HSET', KEYS[4], 'date', ARGV[4], 'slot', ARGV[5], 'slot_end', ARGV[6],
           'queue_number', queue_number, 'reschedule_token', ARGV[11],
           'rescheduled_ms', now, 'rescheduled_from', ARGV[2] .. ' ' .. ARGV[3])
local expire_at = math.max(tonumber(ARGV[10]), now + tonumber(ARGV[13]))
for _, i in ipairs({4, 8, 9, 10, 11}) do
  if redis.call('PTTL', KEYS[i]) < expire_at - now then
    redis.call('PEXPIREAT', KEYS[i], expire_at)
  end
end
return {'ok', queue_number}
