-- Seal a booking's person again (rotate-data-key): its 'person:<n>' pieces, or the clear fields
-- of a record written before sealing, are replaced by the new pieces, but only if the record
-- still holds what the caller read and sealed again (an erasure meanwhile wins).
-- KEYS: 1 the booking
-- ARGV: 1 the pieces' prefix ('person:'), 2 the old pieces joined ('' for a record in clear),
--       3 how many clear fields follow, 4.. the clear fields to remove, then the new pieces'
--       field, value ...
-- Returns {'ok'} | {'missing'} (gone or erased) | {'changed'}
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HEXISTS', KEYS[1], 'erased_at') == 1 then
  return {'missing'}
end
local pieces, n = {}, 0
while true do
  local piece = redis.call('HGET', KEYS[1], ARGV[1] .. n)
  if not piece then
    break
  end
  pieces[#pieces + 1] = piece
  n = n + 1
end
if table.concat(pieces) ~= ARGV[2] then
  return {'changed'}
end
for i = 0, n - 1 do
  redis.call('HDEL', KEYS[1], ARGV[1] .. i)
end
local clear = tonumber(ARGV[3])
if clear > 0 then
  redis.call('HDEL', KEYS[1], unpack(ARGV, 4, 3 + clear))
end
redis.call('HSET', KEYS[1], unpack(ARGV, 4 + clear))
return {'ok'}
