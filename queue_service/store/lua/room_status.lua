--! uses room_admitted
-- Where a ticket stands in its waiting room, as of now: admitted once admission (a count
-- that grows at the room's rate from its release: room_admitted.lua) has reached its place in
-- the line. An admitted ticket that is not asked about for the grace time loses its place;
-- one asked about keeps it. The room's own hash says when it releases and closes, so a poll
-- is this one step: the most frequent request of a rush.
-- KEYS: 1 the room (hash), 2 its line, 3 its tickets, 4 its last polls (hash ticket -> ms)
-- ARGV: 1 ticket, 2 now (ms, the app's clock), 3 grace (ms)
-- Returns {'missing'} | {'closed'} (the room is over: no pass needed) | {'undrawn'} (the release
--       has come: draw first) | {'waiting', '' (before the lottery) | index, admitted_through,
--       rate} | {'admitted', index, admitted_through, rate} | {'lost'}
local room = redis.call('HMGET', KEYS[1], 'release_ms', 'drawn', 'base_ms', 'base_index', 'rate', 'paused',
                        'closes_ms')
if not room[1] or redis.call('HEXISTS', KEYS[3], ARGV[1]) == 0 then
  return {'missing'}
end
local now = tonumber(ARGV[2])
if now >= tonumber(room[7]) then
  return {'closed'}
end
if now >= tonumber(room[1]) and room[2] ~= '1' then
  return {'undrawn'}
end
local index = redis.call('ZSCORE', KEYS[2], ARGV[1])
local rate = tonumber(room[5])
if room[6] == '1' then
  rate = 0
end
if not index then
  return {'waiting', '', '0', tostring(rate)}
end
index = tonumber(index)
local through = room_admitted({KEYS[1]}, {ARGV[2]})
if index >= through then
  redis.call('HSET', KEYS[4], ARGV[1], now)
  redis.call('PEXPIRE', KEYS[4], redis.call('PTTL', KEYS[1]))
  return {'waiting', tostring(index), tostring(through), tostring(rate)}
end
-- Admitted when admission reached it: its turn came at the moment the count passed it.
local turn = tonumber(room[3]) + math.max(0, index - tonumber(room[4])) * 60000 / math.max(rate, 1)
local seen = tonumber(redis.call('HGET', KEYS[4], ARGV[1]) or '0')
if now - math.max(seen, turn) > tonumber(ARGV[3]) then
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('HDEL', KEYS[3], ARGV[1])
  redis.call('HDEL', KEYS[4], ARGV[1])
  return {'lost'}
end
redis.call('HSET', KEYS[4], ARGV[1], now)
redis.call('PEXPIRE', KEYS[4], redis.call('PTTL', KEYS[1]))
return {'admitted', tostring(index), tostring(through), tostring(rate)}
