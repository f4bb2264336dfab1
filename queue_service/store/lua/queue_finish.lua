-- One step on a called participant: 'recall' (announce them again at their counter), 'served'
-- or 'no_show' (they did not come; a recall past the branch's number of recalls is one). Finishing is final: a served participant is served once,
-- and the same outcome asked again answers as before, so a re-sent request changes nothing.
-- KEYS: 1 the day's answered requests, 2 the booking, 3 now serving, 4 the branch's recent
--       service durations, 5 the announcements
-- ARGV: 1 request token, 2 step, 3 queue number, 4 now (ISO time), 5 now (ms),
--       6 least time to keep the day's keys (ms), 7 durations kept, 8 announcements kept,
--       9 recalls before a recall makes a no-show
-- Returns {'repeat', json} | {'ok', json} | {'missing'} | {'waiting'} | {'over', status}
local done = redis.call('HGET', KEYS[1], ARGV[1])
if done then
  return {'repeat', done}
end
local b = redis.call('HMGET', KEYS[2], 'status', 'counter', 'called_ms', 'queue_number')
if not b[1] or b[4] ~= ARGV[3] then
  return {'missing'}
end
local step, status = ARGV[2], b[1]
if step == 'recall' and status == 'called'
    and tonumber(redis.call('HGET', KEYS[2], 'recalls') or '0') >= tonumber(ARGV[9]) then
  -- Recalled as often as the branch allows and still not here: a no-show.
  step = 'no_show'
end
if status == 'served' or status == 'no_show' then
  if status ~= step then
    return {'over', status}
  end
elseif status ~= 'called' then
  return {'waiting'}
elseif step == 'recall' then
  redis.call('HINCRBY', KEYS[2], 'calls', 1)
  redis.call('HINCRBY', KEYS[2], 'recalls', 1)
  redis.call('HSET', KEYS[2], 'recalled_at', ARGV[4])
  redis.call('HSET', KEYS[3], b[2], ARGV[3])
  redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[8], '*', 'number', ARGV[3], 'counter', b[2],
             'service', redis.call('HGET', KEYS[2], 'queue_service') or '', 'kind', 'recall')
  if redis.call('PTTL', KEYS[5]) < tonumber(ARGV[6]) then
    redis.call('PEXPIRE', KEYS[5], ARGV[6])
  end
  status = 'called'
else
  redis.call('HSET', KEYS[2], 'status', step, step .. '_at', ARGV[4])
  if redis.call('HGET', KEYS[3], b[2]) == ARGV[3] then
    redis.call('HDEL', KEYS[3], b[2])
  end
  if step == 'served' and b[3] then
    local seconds = math.max(0, math.floor((tonumber(ARGV[5]) - tonumber(b[3])) / 1000))
    redis.call('LPUSH', KEYS[4], seconds)
    redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[7]) - 1)
  end
  status = step
end
local answer = cjson.encode({queue_number = ARGV[3], status = status, counter = b[2]})
redis.call('HSET', KEYS[1], ARGV[1], answer)
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[6]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
end
return {'ok', answer}
