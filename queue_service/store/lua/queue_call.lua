-- Call the next participant to a counter: the head of the priority lines while the priority
-- share allows (or nobody else waits), else the head of the other lines; the one chosen leaves
-- the line in this step, so two counters calling at once never get the same participant.
-- The caller cannot declare a booking key it does not know yet: a first run without a
-- candidate answers who would be called ('changed'); the caller runs it again with that one's
-- booking declared, and the step calls them only if they are still the one to call.
-- Safe to run twice for one request: a token already answered gets its first answer again.
-- After the call, whoever is now among the next N to be called in the called service's lines
-- (priority line first) gets a call-ahead SMS on the branch's outbox, once per participant:
-- walk-in tickets ('WA-001': two letters) have no phone and are left out.
-- KEYS: 1 the day's answered requests, 2 the day's queue numbers, 3 now serving,
--       4 the recent calls, 5 the paused counters, 6 the announcements, 7 the day's
--       participants already told by call-ahead SMS, 8 the branch's SMS outbox, then per
--       service its waiting line and its priority line, then (with a candidate) the
--       candidate's booking
-- ARGV: 1 request token, 2 counter, 3 candidate queue number or '', 4 now (ISO time),
--       5 priority share (percent), 6 calls the share is counted over, 7 least time to keep
--       the day's keys (ms), 8 the number of services, 9 now (ms), 10.. the services (as KEYS),
--       then the announcements kept, then N for the call-ahead SMS (0: none)
-- The 'ok' answer is followed by the codes given a call-ahead SMS.
-- Returns {'repeat', json} | {'ok', json} | {'empty'} | {'changed', queue number, code}
local done = redis.call('HGET', KEYS[1], ARGV[1])
if done then
  return {'repeat', done}
end
local services = tonumber(ARGV[8])
local function head(key)
  local h = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if h[1] then
    return h[1], tonumber(h[2])
  end
  return nil, nil
end
local function best(offset)
  local number, order, service, line
  for i = 1, services do
    local key = KEYS[8 + 2 * (i - 1) + offset]
    local n, o = head(key)
    if n and (order == nil or o < order) then
      number, order, service, line = n, o, ARGV[9 + i], key
    end
  end
  return number, service, line
end
local normal, normal_service, normal_line = best(1)
local first, first_service, priority_line = best(2)
local priority = false
if first then
  if not normal then
    priority = true
  else
    -- Of the last N calls, this one included, at most the share may be priority.
    local window = tonumber(ARGV[6])
    local recent = redis.call('LRANGE', KEYS[4], 0, window - 2)
    local taken = 1
    for _, kind in ipairs(recent) do
      if kind == 'p' then
        taken = taken + 1
      end
    end
    priority = taken * 100 <= tonumber(ARGV[5]) * window
  end
end
local number, service, line = normal, normal_service, normal_line
if priority then
  number, service, line = first, first_service, priority_line
end
if not number then
  return {'empty'}
end
local code = redis.call('HGET', KEYS[2], number)
local booking = KEYS[8 + 2 * services + 1]
if number ~= ARGV[3] or not booking or not code then
  return {'changed', number, code or ''}
end
redis.call('ZREM', line, number)
if redis.call('HGET', booking, 'status') ~= 'checked_in' then
  -- Not waiting after all (it cannot happen through these steps): drop it and choose again.
  return {'changed', '', ''}
end
local calls = redis.call('HINCRBY', booking, 'calls', 1)
redis.call('HSET', booking, 'status', 'called', 'called_at', ARGV[4], 'called_ms', ARGV[9],
           'counter', ARGV[2], 'queue_service', service, 'recalls', 0)
redis.call('HSET', KEYS[3], ARGV[2], number)
redis.call('SREM', KEYS[5], ARGV[2])
redis.call('LPUSH', KEYS[4], priority and 'p' or 'n')
redis.call('LTRIM', KEYS[4], 0, 99)
local answer = cjson.encode({queue_number = number, service_id = service, counter = ARGV[2],
                             priority = priority, calls = calls})
redis.call('HSET', KEYS[1], ARGV[1], answer)
redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[10 + services], '*', 'number', number,
           'counter', ARGV[2], 'service', service, 'kind', 'call')
local reply = {'ok', answer}
local ahead = tonumber(ARGV[11 + services])
if ahead > 0 then
  local regular, priority_line = line, line
  -- The called service's two lines, whichever of them the call took from.
  for i = 1, services do
    if ARGV[9 + i] == service then
      regular, priority_line = KEYS[8 + 2 * (i - 1) + 1], KEYS[8 + 2 * (i - 1) + 2]
    end
  end
  local next_ones = redis.call('ZRANGE', priority_line, 0, ahead - 1)
  for _, n in ipairs(redis.call('ZRANGE', regular, 0, ahead - 1)) do
    next_ones[#next_ones + 1] = n
  end
  for i = 1, math.min(ahead, #next_ones) do
    local n = next_ones[i]
    if not string.find(n, '^%u%u%-') and redis.call('SADD', KEYS[7], n) == 1 then
      local c = redis.call('HGET', KEYS[2], n)
      if c then
        redis.call('ZADD', KEYS[8], 'NX', ARGV[9], c .. ':call_ahead')
        reply[#reply + 1] = c
      end
    end
  end
end
for _, key in ipairs({KEYS[1], KEYS[3], KEYS[4], KEYS[6], KEYS[7]}) do
  if redis.call('PTTL', key) < tonumber(ARGV[7]) then
    redis.call('PEXPIRE', key, ARGV[7])
  end
end
return reply
