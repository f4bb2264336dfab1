-- Issue a walk-in ticket while the day's walk-in places last: its own numbering (the service
-- prefix after a 'W': 'WA-001'), so it never collides with a booked number, and a place in the
-- service's line by arrival, in the same step, so no ticket is issued without a place.
-- Safe to run twice for one request: a token already answered gets its first answer again.
-- KEYS: 1 the day's answered requests, 2 the day's walk-in counts, 3 the day's queue numbers,
--       4 the line to join, 5 the new ticket's record
-- ARGV: 1 request token, 2 the day's walk-in places, 3 service, 4 service prefix, 5 code,
--       6 place in line, 7 now (ISO time), 8 the day (ISO date), 9 branch, 10 priority '1'/'0',
--       11 least time to keep the keys (ms), 12 kiosk id
-- Returns {'repeat', json} | {'ok', json} | {'full'}
local done = redis.call('HGET', KEYS[1], ARGV[1])
if done then
  return {'repeat', done}
end
if tonumber(redis.call('HGET', KEYS[2], 'total') or '0') >= tonumber(ARGV[2]) then
  return {'full'}
end
redis.call('HINCRBY', KEYS[2], 'total', 1)
local sequence = redis.call('HINCRBY', KEYS[2], 'service:' .. ARGV[3], 1)
local number = string.format('W%s-%03d', ARGV[4], sequence)
redis.call('HSET', KEYS[5], 'branch_id', ARGV[9], 'service_id', ARGV[3], 'date', ARGV[8],
           'queue_number', number, 'status', 'checked_in', 'walk_in', '1',
           'checked_in_at', ARGV[7], 'checked_in_by', ARGV[12], 'queue_order', ARGV[6],
           'priority', ARGV[10])
redis.call('HSET', KEYS[3], number, ARGV[5])
redis.call('ZADD', KEYS[4], 'NX', ARGV[6], number)
local answer = cjson.encode({queue_number = number, service_id = ARGV[3], code = ARGV[5]})
redis.call('HSET', KEYS[1], ARGV[1], answer)
for i = 1, 5 do
  if redis.call('PTTL', KEYS[i]) < tonumber(ARGV[11]) then
    redis.call('PEXPIRE', KEYS[i], ARGV[11])
  end
end
return {'ok', answer}
