--! uses key_booked claim_nik count_phone reserve confirm_nik release_nik release_phone
-- Book on a single Redis in one step: the code's branch entry, the NIK's claim, the phone's
-- count, the place and the claim's confirmation, which on a cluster live in four slots and
-- take five calls (Reservations). The parts are the very scripts those calls run, so both ways book alike;
-- here nothing can happen between them, and a refusal takes back the claim, the count and
-- the entry.
-- KEYS: 1 the code's branch entry, 2 the NIK's day claim, 3-14 reserve.lua's KEYS,
--       15 (optional: no cap without it) the phone's bookings
-- ARGV: 1-6 claim_nik.lua's ARGV, 7-25 reserve.lua's ARGV (its claim time is the claim's),
--       26-29 confirm_nik.lua's ARGV (the entry lives as long as the claim),
--       30-35 (with KEYS[15]) count_phone.lua's ARGV
-- Returns {'ok', queue_number, created_ms}, {'idempotent', digest, code} as reserve.lua's
-- (checked first: the key's booking holds the NIK's claim), {'claim', 'busy'},
-- {'claim', 'held', code, branch, at}, {'phone', 'too_many', ...} as count_phone.lua's, or
-- {refusal} as reserve.lua's
local function part(list, first, last)
  local out = {}
  for i = first, last do
    out[#out + 1] = list[i]
  end
  return out
end
-- A key that booked already: answered before the NIK's claim, which its booking holds.
local booked = key_booked({KEYS[13]}, {ARGV[24]})
if booked then
  return booked
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
-- The code's entry may exist already only as this very attempt's (a re-sent call, whose
-- claim holds the code); anyone else's is a code collision, never to be overwritten.
if redis.call('EXISTS', KEYS[1]) == 1 and redis.call('HGET', KEYS[2], 'code') ~= ARGV[1] then
  return {'code_taken'}
end
redis.call('SET', KEYS[1], ARGV[2], 'PXAT', math.max(tonumber(ARGV[5]), now + tonumber(ARGV[6])))
local claim_keys = {KEYS[2]}
local claimed = claim_nik(claim_keys, part(ARGV, 1, 6))
if claimed[1] ~= 'claimed' then
  redis.call('DEL', KEYS[1])
  return {'claim', claimed[1], claimed[2], claimed[3], claimed[4]}
end
local phone_keys = {KEYS[15]}
if KEYS[15] then
  local counted = count_phone(phone_keys, part(ARGV, 30, 35))
  if counted[1] ~= 'counted' then
    release_nik(claim_keys, {ARGV[1]})
    redis.call('DEL', KEYS[1])
    local refusal = {'phone'}
    for i = 1, #counted do
      refusal[#refusal + 1] = counted[i]
    end
    return refusal
  end
end
local reserve_args = part(ARGV, 7, 25)
reserve_args[6] = claimed[2]
local outcome = reserve(part(KEYS, 3, 14), reserve_args)
if outcome[1] ~= 'ok' then
  release_nik(claim_keys, {ARGV[1]})
  if KEYS[15] then
    release_phone(phone_keys, {ARGV[1]})
  end
  redis.call('DEL', KEYS[1])
  return outcome
end
confirm_nik(claim_keys, part(ARGV, 26, 29))
return outcome
