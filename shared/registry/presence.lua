-- Move a user's session count in a room and announce the transition, in one
-- atomic step, so ENTER and LEAVE events follow the counter's order exactly.
-- KEYS[1] room presence hash   KEYS[2] room events channel
-- ARGV[1] user id   ARGV[2] +1 or -1   ARGV[3] event JSON (ENTER or LEAVE)
-- Returns 1 when the user entered (0 -> 1) or left (1 -> 0), else 0.
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
if tonumber(ARGV[2]) > 0 then
  if n == 1 then
    redis.call('PUBLISH', KEYS[2], ARGV[3])
    return 1
  end
  return 0
end
if n <= 0 then
  redis.call('HDEL', KEYS[1], ARGV[1])
  if n == 0 then
    redis.call('PUBLISH', KEYS[2], ARGV[3])
    return 1
  end
end
return 0
