-- Announce that a member is typing, at most ARGV[2] times per window per
-- member and room; extras are dropped. Nothing is stored but the counter.
-- KEYS[1] room member set   KEYS[2] the member's rate counter in the room
-- KEYS[3] room events channel
-- ARGV[1] user id   ARGV[2] events allowed per window   ARGV[3] window (ms)
-- ARGV[4] TYPING event JSON
-- ARGV[5] (last) the publish command, PUBLISH or SPUBLISH (events.Script)
-- Returns 1 when published, 0 when dropped, or an error reply NOTMEMBER.
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then
  return redis.error_reply('NOTMEMBER not a member of the room')
end
local n = redis.call('INCR', KEYS[2])
if n == 1 then
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
if n > tonumber(ARGV[2]) then
  return 0
end
redis.call(ARGV[#ARGV], KEYS[3], ARGV[4])
return 1
