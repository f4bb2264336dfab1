-- Move a checked-in participant between lines, keeping their place by arrival: 'transfer' to
-- another service's line, or 'priority' / 'regular' between a service's two lines. A called
-- participant transferred goes back to waiting, at their old place in the new line (the counter
-- that called them no longer shows them). Moving to where one already is changes nothing.
-- KEYS: 1 the day's answered requests, 2 the booking, 3 now serving, 4 the waiting line and
--       5 the priority line of the service they are in, 6 the waiting line and 7 the priority
--       line of the service they go to
-- ARGV: 1 request token, 2 queue number, 3 step, 4 the service they go to, 5 priority ('1'
--       or '0'; a transfer keeps the stored one), 6 the service they are in (as the caller
--       read it), 7 now (ISO time), 8 least time to keep the day's keys (ms)
-- Returns {'repeat', json} | {'ok', json} | {'missing'} | {'over', status} | {'moved'}
local done = redis.call('HGET', KEYS[1], ARGV[1])
if done then
  return {'repeat', done}
end
local b = redis.call('HMGET', KEYS[2], 'status', 'counter', 'queue_order', 'queue_number',
                     'queue_service', 'service_id', 'priority')
if not b[1] or b[4] ~= ARGV[2] or not b[3] then
  return {'missing'}
end
if b[1] ~= 'checked_in' and b[1] ~= 'called' then
  return {'over', b[1]}
end
if (b[5] or b[6]) ~= ARGV[6] then
  return {'moved'}
end
-- A transfer keeps the priority as it stands now, not as the caller read it: a mark made
-- meanwhile must not be written back.
local priority = ARGV[3] == 'transfer' and (b[7] == '1' and '1' or '0') or ARGV[5]
redis.call('ZREM', KEYS[4], ARGV[2])
redis.call('ZREM', KEYS[5], ARGV[2])
if ARGV[3] == 'transfer' or b[1] == 'checked_in' then
  local line = priority == '1' and KEYS[7] or KEYS[6]
  redis.call('ZADD', line, b[3], ARGV[2])
  if redis.call('PTTL', line) < tonumber(ARGV[8]) then
    redis.call('PEXPIRE', line, ARGV[8])
  end
end
if ARGV[3] == 'transfer' and b[1] == 'called' then
  if b[2] and redis.call('HGET', KEYS[3], b[2]) == ARGV[2] then
    redis.call('HDEL', KEYS[3], b[2])
  end
  redis.call('HSET', KEYS[2], 'status', 'checked_in')
  redis.call('HDEL', KEYS[2], 'counter')
  b[1] = 'checked_in'
end
redis.call('HSET', KEYS[2], 'queue_service', ARGV[4], 'priority', priority,
           ARGV[3] .. '_at', ARGV[7])
local answer = cjson.encode({queue_number = ARGV[2], status = b[1], service_id = ARGV[4],
                             priority = priority == '1'})
redis.call('HSET', KEYS[1], ARGV[1], answer)
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[8]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[8])
end
return {'ok', answer}
