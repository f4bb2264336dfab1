-- Which places of a day its waitlist keeps for those who wait (domain.waitlist): the one rule
-- by which a booking or a move is refused (place_refusal.lua) and public availability shows a
-- place as taken (availability_inputs.lua). A waiter keeps a place only while it could be
-- offered one: the day's quota and its own service's quota have room. One whose service is
-- full keeps nothing, so it holds up no other service's bookings (its own service's are
-- refused by that quota anyway), and the offer step offers it a place once its service frees.
-- KEYS: 1 day counts, 2 the day's waiters (hash '<service>/<slot>', '<service>/*' for any
--       slot -> how many wait so)
-- ARGV: 1 the branch's settings (decoded), 2 the day's quota (the date's override's if any)
-- Returns {any, slots}: any true when a waiter for any slot of the day keeps a place (then
-- every slot's), slots a table slot -> true of the slots a waiter for that slot keeps a place in
local waiting = redis.call('HGETALL', KEYS[2])
local any, slots = false, {}
if #waiting == 0 then
  return {any, slots}
end
local day = redis.call('HGET', KEYS[1], 'total')
if tonumber(day or '0') >= ARGV[2] then
  return {any, slots}
end
local quotas = ARGV[1].service_quotas
local room = {} -- service -> whether its own quota has room
for i = 1, #waiting, 2 do
  if tonumber(waiting[i + 1]) > 0 then
    local service, slot = string.match(waiting[i], '^(.*)/([^/]*)$')
    if room[service] == nil then
      local quota = type(quotas) == 'table' and quotas[service]
      room[service] = type(quota) ~= 'number'
        or tonumber(redis.call('HGET', KEYS[1], 'svc:' .. service) or '0') < quota
    end
    if room[service] then
      if slot == '*' then
        any = true
      else
        slots[slot] = true
      end
    end
  end
end
return {any, slots}
