-- Consume a captcha challenge: return its answer (nil if unknown or expired) and delete
-- it with its cached audio, so no second attempt can name it.
-- KEYS[1] the answer; KEYS[2] the cached audio clip
local answer = redis.call('GET', KEYS[1])
redis.call('DEL', KEYS[1], KEYS[2])
return answer
