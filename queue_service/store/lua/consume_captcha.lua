-- Consume a captcha challenge: return its answer (nil if unknown or expired) and delete it
-- with its cached audio, so no other attempt can name it. The answer is kept for a while
-- under the consuming attempt's token, so a second run of the same call (a client that
-- re-sent it after a lost reply) answers as the first did.
-- KEYS: 1 the answer, 2 the cached audio clip, 3 the consumption record
-- ARGV: 1 the attempt's token, 2 how long the consumption record is kept (ms)
local answer = redis.call('GET', KEYS[1])
if not answer then
  local used = redis.call('GET', KEYS[3])
  local mark = ARGV[1] .. ':'
  if used and string.sub(used, 1, #mark) == mark then
    return string.sub(used, #mark + 1)
  end
  return nil
end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('SET', KEYS[3], ARGV[1] .. ':' .. answer, 'PX', ARGV[2])
return answer
