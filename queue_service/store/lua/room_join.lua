--! uses room_admitted room_create
-- Join a branch's waiting room: a new ticket, or the caller's own back (a browser that joins
-- again keeps its place, and more tickets buy no more draws). One address holds at most so
-- many tickets a room: a rule of the room, whatever the rate limits say.
-- Before the release a ticket waits unplaced for the lottery (room_draw.lua); after it, it
-- joins the end of the line. The caller draws first once the release has come.
-- KEYS: 1 the room (hash), 2 its arrivals, 3 its line, 4 tickets per address (hash),
--       5 its tickets (hash ticket -> address)
-- ARGV: 1 the new ticket, 2 the caller's ticket ('' for none), 3 the address, 4 tickets
--       allowed per address, 5 now (ms, the app's clock), 6-11 room_create.lua's ARGV (the
--       room is written when first touched)
-- Returns {'joined', ticket} (a new one) | {'again', ticket} (the caller's own)
--       | {'too_many'} | {'undrawn'} (the release came: draw first)
if ARGV[2] ~= '' and redis.call('HEXISTS', KEYS[5], ARGV[2]) == 1 then
  return {'again', ARGV[2]}
end
local expire_at = room_create({KEYS[1]}, {ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10], ARGV[11]})
local room = redis.call('HMGET', KEYS[1], 'release_ms', 'drawn')
local released = tonumber(ARGV[5]) >= tonumber(room[1])
if released and room[2] ~= '1' then
  return {'undrawn'}
end
if tonumber(redis.call('HGET', KEYS[4], ARGV[3]) or '0') >= tonumber(ARGV[4]) then
  return {'too_many'}
end
redis.call('HINCRBY', KEYS[4], ARGV[3], 1)
redis.call('HSET', KEYS[5], ARGV[1], ARGV[3])
if released then
  -- The end of the line, or, if admission ran ahead of the line (a quiet room), the last
  -- place it has reached: let in at once, one at a time as the count moves, never with a turn
  -- long past (which room_status.lua would take for a ticket that stopped asking).
  local index = math.max(tonumber(redis.call('HGET', KEYS[1], 'next_index') or '0'),
                         room_admitted({KEYS[1]}, {ARGV[5]}) - 1)
  redis.call('HSET', KEYS[1], 'next_index', index + 1)
  redis.call('ZADD', KEYS[3], index, ARGV[1])
  redis.call('PEXPIREAT', KEYS[3], expire_at)
else
  redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])
  redis.call('PEXPIREAT', KEYS[2], expire_at)
end
for i = 4, 5 do
  redis.call('PEXPIREAT', KEYS[i], expire_at)
end
return {'joined', ARGV[1]}
