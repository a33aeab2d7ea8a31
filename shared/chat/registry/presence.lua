-- Put a session into a room's view or take it out, moving the user's session
-- count there and announcing the transition, in one atomic step. It is
-- idempotent: the count moves only when the room's session hash changes,
-- so a call retried after a lost reply changes nothing, and ENTER/LEAVE
-- follow the counter's order exactly.
-- KEYS[1] room sessions hash   KEYS[2] room presence hash
-- KEYS[3] room events channel
-- ARGV[1] session id   ARGV[2] user id   ARGV[3] "add" or "remove"
-- ARGV[4] event JSON (ENTER for add, LEAVE for remove)
-- ARGV[5] (last) the publish command, PUBLISH or SPUBLISH (events.Script)
-- KEYS[4] (optional, add only; a single Redis only, as it is on the user's
-- slot) the user's session hash: the session enters only if it is there,
-- that is if claim.lua, earlier in the same pipeline, admitted it.
-- Returns 1 when the user entered (0 -> 1) or left (1 -> 0), -1 when
-- KEYS[4] lacks the session (nothing done), else 0.
if ARGV[3] == 'add' then
  if KEYS[4] and redis.call('HEXISTS', KEYS[4], ARGV[1]) == 0 then return -1 end
  if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
  if redis.call('HINCRBY', KEYS[2], ARGV[2], 1) == 1 then
    redis.call(ARGV[#ARGV], KEYS[3], ARGV[4])
    return 1
  end
  return 0
end
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
local n = redis.call('HINCRBY', KEYS[2], ARGV[2], -1)
if n <= 0 then
  redis.call('HDEL', KEYS[2], ARGV[2])
  if n == 0 then
    redis.call(ARGV[#ARGV], KEYS[3], ARGV[4])
    return 1
  end
end
return 0
