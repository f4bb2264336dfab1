--! uses room_admitted room_create
-- An admin changes a waiting room's rate, or pauses or resumes its admission, while it is open.
-- Admission is a count (room_status.lua): by t, base_index + floor((t - base_ms) * rate / 60000)
-- + 1 places are in (base_index before base_ms). A change at t0 rebases it where it had got,
-- T0: base_index = T0 - 1, base_ms = t0, so what was admitted stays admitted, nobody more is
-- let in at t0, and the new rate counts from t0. A pause is the flag 'paused' (room_status.lua
-- reads it as rate 0: the count stays at T0); a resume rebases the same way, so the paused time
-- is not caught up at once. Before the release (t0 < base_ms, admission not begun) the base
-- stays the release: base_index 0, or -1 while paused, so that a room paused before its release
-- admits nobody at it. The change and its audit entry are one step.
-- KEYS: 1 the room (hash), 2 the branch's audit stream
-- ARGV: 1 the new rate per minute ('' to keep it), 2 paused ('1', '0', or '' to keep it),
--       3 now (ms, the app's clock), 4-9 room_create.lua's ARGV (the room is written if
--       nobody has joined yet),
--       10.. the audit entry's field, value ... (its 'before' and 'after' are filled in here:
--       {admit_per_minute, paused, admitted}, admitted: the tickets of the line let in so far)
-- Returns {'changed', rate_before, paused_before, rate, paused, admitted} | {'same', rate,
--       paused, admitted} (nothing to change: no entry)
room_create({KEYS[1]}, {ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9]})
local room = redis.call('HMGET', KEYS[1], 'base_ms', 'base_index', 'rate', 'paused', 'next_index')
local now = tonumber(ARGV[3])
local base_ms, base_index = tonumber(room[1]), tonumber(room[2])
local rate_before, paused_before = tonumber(room[3]), room[4] == '1'
local rate = rate_before
if ARGV[1] ~= '' then
  rate = tonumber(ARGV[1])
end
local paused = paused_before
if ARGV[2] ~= '' then
  paused = ARGV[2] == '1'
end
local function flag(value)
  if value then
    return '1'
  end
  return '0'
end
-- Where admission has got by now.
local through = room_admitted({KEYS[1]}, {ARGV[3]})
-- The people in: the count may run ahead of the line (places nobody has taken yet).
local admitted = math.max(0, math.min(through, tonumber(room[5] or '0')))
if rate == rate_before and paused == paused_before then
  return {'same', tostring(rate), flag(paused), tostring(admitted)}
end
if now >= base_ms then
  redis.call('HSET', KEYS[1], 'base_ms', now, 'base_index', through - 1)
elseif paused then
  redis.call('HSET', KEYS[1], 'base_index', -1)
else
  redis.call('HSET', KEYS[1], 'base_index', 0)
end
redis.call('HSET', KEYS[1], 'rate', rate, 'paused', flag(paused))
local entry = {}
for i = 10, #ARGV, 2 do
  local value = ARGV[i + 1]
  if ARGV[i] == 'before' then
    value = cjson.encode({admit_per_minute = rate_before, paused = paused_before, admitted = admitted})
  elseif ARGV[i] == 'after' then
    value = cjson.encode({admit_per_minute = rate, paused = paused, admitted = admitted})
  end
  entry[#entry + 1] = ARGV[i]
  entry[#entry + 1] = value
end
redis.call('XADD', KEYS[2], '*', unpack(entry))
return {'changed', tostring(rate_before), flag(paused_before), tostring(rate), flag(paused), tostring(admitted)}
