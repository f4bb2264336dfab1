--! uses place_refusal
-- Put a participant on a day's waitlist, for one slot or for any: only when no place they
-- could book is free (place_refusal.lua says every slot asked for is full, counting those who
-- wait already, whose places a booking cannot take either), all in one step with the check.
-- The entry is a record under the booking's key, 'waiting', without a queue number (one is
-- issued only when an offer is accepted), counted as a waiter of its slot ('w:<slot>') or of
-- the day ('w:*') in the day's slot counts. The NIK's date and the phone's count, in other
-- cluster slots, are claimed by the caller first, as for a booking.
-- Safe to run twice for one attempt (a re-sent call): it finds its own entry and answers so.
-- KEYS: 1 settings, 2 date overrides, 3 the branch's copy of the national closures,
--       4 day counts, 5 slot counts, 6 the entry, 7 the day's waitlist, 8 the branch's days
--       with a waitlist
-- ARGV: 1 code, 2 date, 3 service, 4 SHA-1 of the settings the slots were computed from,
--       5 entry fields (JSON object of strings), 6 attempt token, 7 claim_at_ms,
--       8 claim_window_ms, 9 expire_at_ms, 10 least time to keep keys (ms), 11 the date's
--       ordinal, 12 the slot waited for ('' for any), 13.. the slots still bookable that day
--       (the one waited for, or every one)
-- Returns {'ok', position, created_ms, 'waiting', ''} (as reserve.lua's 'ok', the position in
-- the queue number's place), {'not_full'} (a slot asked for has a free place: book it) or
-- {refusal} as place_refusal.lua's (never 'slot_full' or 'day_full'), or 'code_taken',
-- 'claim_expired'
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local mine = redis.call('HMGET', KEYS[6], 'attempt', 'created_ms')
if mine[1] then
  if mine[1] == ARGV[6] then
    local rank = redis.call('ZRANK', KEYS[7], ARGV[1])
    return {'ok', tostring(rank and rank + 1 or 0), mine[2], 'waiting', ''}
  end
  return {'code_taken'}
end
if now - tonumber(ARGV[7]) > tonumber(ARGV[8]) then
  return {'claim_expired'}
end
for i = 13, #ARGV do
  local refused = place_refusal({KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]},
                                {ARGV[4], ARGV[2], ARGV[3], ARGV[i], '1', ''})
  if not refused then
    return {'not_full'}
  end
  if refused[1] ~= 'slot_full' and refused[1] ~= 'day_full' then
    return refused
  end
end
if #ARGV < 13 then
  return {'not_bookable'}
end
local flat = {}
for field, value in pairs(cjson.decode(ARGV[5])) do
  flat[#flat + 1] = field
  flat[#flat + 1] = value
end
redis.call('HSET', KEYS[6], 'status', 'waiting', 'queue_number', '', 'created_ms', now,
           'attempt', ARGV[6], 'slot', ARGV[12], 'slot_end', '', unpack(flat))
redis.call('ZADD', KEYS[7], now, ARGV[1])
redis.call('HINCRBY', KEYS[5], ARGV[12] == '' and 'w:*' or 'w:' .. ARGV[12], 1)
redis.call('HINCRBY', KEYS[4], 'wl:joined', 1)
redis.call('ZADD', KEYS[8], tonumber(ARGV[11]), ARGV[2])
local expire_at = math.max(tonumber(ARGV[9]), now + tonumber(ARGV[10]))
for i = 4, 7 do
  if redis.call('PTTL', KEYS[i]) < expire_at - now then
    redis.call('PEXPIREAT', KEYS[i], expire_at)
  end
end
return {'ok', tostring(redis.call('ZRANK', KEYS[7], ARGV[1]) + 1), tostring(now), 'waiting', ''}
