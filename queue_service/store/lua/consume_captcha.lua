-- Consume a captcha challenge: return its answer (nil if unknown or expired) and drop its
-- kept audio clip and image, so no other attempt can name it. The answer key itself becomes the record of
-- the consumption for a while, '~<attempt token>:<answer>', so a second run of the same call
-- (a client that re-sent it after a lost reply) answers as the first did. In place rather than
-- in a key of its own: a key costs a hundred bytes before it holds anything.
-- KEYS: 1 the answer, 2 the kept audio clip, 3 the kept image
-- ARGV: 1 the attempt's token, 2 how long the consumption record is kept (ms)
local stored = redis.call('GET', KEYS[1])
if not stored then
  return nil
end
if string.sub(stored, 1, 1) == '~' then
  local mark = '~' .. ARGV[1] .. ':'
  if string.sub(stored, 1, #mark) == mark then
    return string.sub(stored, #mark + 1)
  end
  return nil
end
redis.call('DEL', KEYS[2], KEYS[3])
redis.call('SET', KEYS[1], '~' .. ARGV[1] .. ':' .. stored, 'PX', ARGV[2])
return stored
