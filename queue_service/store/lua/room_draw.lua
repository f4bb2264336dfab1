-- The waiting room's lottery, once, at its release: every ticket that arrived before it is
-- placed in the line in an order drawn from a random seed, by sorting the tickets on
-- SHA-1(seed .. ticket): no arrival order survives, and anyone holding the seed (it is in the
-- audit entry) can check the order. Later arrivals join the end in order of arrival
-- (room_join.lua). Safe to run twice: a room drawn already answers as it was drawn.
-- KEYS: 1 the room (hash), 2 its arrivals before the release (sorted set ticket -> arrival),
--       3 its line (sorted set ticket -> index), 4 the branch's audit stream
-- ARGV: 1 the seed (hex), 2 now (ms, the app's clock),
--       3.. the audit entry's field, value ... (its 'after', a JSON object, gains 'drawn': how
--       many tickets the lottery placed)
-- The line lives as long as the room's record (room_create.lua gave it its life).
-- Returns {'drawn', count, seed} | {'early'} (the release has not come) | {'missing'}
local room = redis.call('HMGET', KEYS[1], 'release_ms', 'drawn', 'seed', 'drawn_count')
if not room[1] then
  return {'missing'}
end
if room[2] == '1' then
  return {'drawn', room[4], room[3]}
end
if tonumber(ARGV[2]) < tonumber(room[1]) then
  return {'early'}
end
local arrivals = redis.call('ZRANGE', KEYS[2], 0, -1)
local keyed = {}
for i, ticket in ipairs(arrivals) do
  keyed[i] = {redis.sha1hex(ARGV[1] .. ticket), ticket}
end
table.sort(keyed, function(a, b) return a[1] < b[1] end)
for i, pair in ipairs(keyed) do
  redis.call('ZADD', KEYS[3], i - 1, pair[2])
end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[1], 'drawn', '1', 'seed', ARGV[1], 'drawn_count', #keyed, 'next_index', #keyed)
if #keyed > 0 then
  redis.call('PEXPIRE', KEYS[3], redis.call('PTTL', KEYS[1]))
end
local entry = {}
for i = 3, #ARGV, 2 do
  local value = ARGV[i + 1]
  if ARGV[i] == 'after' then  -- the caller could not know how many it draws
    local after = cjson.decode(value)
    after['drawn'] = #keyed
    value = cjson.encode(after)
  end
  entry[#entry + 1] = ARGV[i]
  entry[#entry + 1] = value
end
redis.call('XADD', KEYS[4], '*', unpack(entry))
return {'drawn', tostring(#keyed), ARGV[1]}
