-- The room-side half of the post-send step, on the room's slot: the sender
-- has read up to their own message, and which other members are away.
-- KEYS[1] room member set   KEYS[2] room presence hash   KEYS[3] room read hash
-- ARGV[1] sender id   ARGV[2] the message's seq   ARGV[3] most members notified
-- Returns {sender's previous position, skipped, user, position, user, position, ...}:
-- the members other than the sender with no session in the room (presence
-- count 0) and their read positions; skipped is 1, and the list empty, when
-- the room has more than ARGV[3] members.
local prev = tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0')
if prev < tonumber(ARGV[2]) and redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then
  redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
end
if redis.call('SCARD', KEYS[1]) > tonumber(ARGV[3]) then
  return {prev, 1}
end
local out = {prev, 0}
for _, u in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if u ~= ARGV[1] and tonumber(redis.call('HGET', KEYS[2], u) or '0') <= 0 then
    out[#out + 1] = tonumber(u)
    out[#out + 1] = tonumber(redis.call('HGET', KEYS[3], u) or '0')
  end
end
return out
