-- End of a branch's day: its bookings still 'booked' become 'no_show'; any other status
-- (checked in, served, cancelled, already a no-show) is left as it is, so running twice
-- changes nothing more. A long day is marked in batches; the last batch also checks that the
-- day's index holds exactly the codes the caller read (a booking moved in or out meanwhile
-- makes it answer 'changed', and the caller reads again), then records the day as closed.
-- KEYS: 1 the day's booking index, 2 the branch's closed days, 3.. the batch's bookings
-- ARGV: 1 the day (ISO date), 2 the day's ordinal, 3 now (ISO time), 4 '1' on the last batch,
--       5 closed days older than this ordinal are forgotten,
--       6.. on the last batch: every code the caller read from the index
-- Returns {'ok', marked} | {'changed', marked}
local marked = 0
for i = 3, #KEYS do
  local b = redis.call('HMGET', KEYS[i], 'status', 'date')
  if b[1] == 'booked' and b[2] == ARGV[1] then
    redis.call('HSET', KEYS[i], 'status', 'no_show', 'no_show_at', ARGV[3])
    marked = marked + 1
  end
end
if ARGV[4] ~= '1' then
  return {'ok', marked}
end
local codes = redis.call('LRANGE', KEYS[1], 0, -1)
if #codes ~= #ARGV - 5 then
  return {'changed', marked}
end
local read = {}
for i = 6, #ARGV do
  read[ARGV[i]] = true
end
for _, code in ipairs(codes) do
  if not read[code] then
    return {'changed', marked}
  end
end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[5])
return {'ok', marked}
