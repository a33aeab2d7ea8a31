-- Replace one history entry (edit or delete) and announce it, atomically,
-- provided the entry is still what the caller read (compare and swap).
-- KEYS[1] room member set   KEYS[2] room history zset
-- KEYS[3] room events channel
-- ARGV[1] user id (must still be a member)   ARGV[2] seq
-- ARGV[3] the entry as read   ARGV[4] its replacement
-- ARGV[5] MESSAGE_EDITED / MESSAGE_DELETED event JSON
-- With the archive feed on (messages.ArchiveFeed), also:
-- KEYS[4] the room's archive stream   ARGV[6] room id   ARGV[7] its MAXLEN ~
-- ARGV[#ARGV] (last) the publish command, PUBLISH or SPUBLISH (events.Script)
-- Returns 1 when replaced, 0 when the entry is gone (trimmed), -1 when it
-- changed meanwhile (read again), or an error reply NOTMEMBER.
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then
  return redis.error_reply('NOTMEMBER not a member of the room')
end
local cur = redis.call('ZRANGEBYSCORE', KEYS[2], ARGV[2], ARGV[2])
if #cur == 0 then
  return 0
end
if cur[1] ~= ARGV[3] then
  return -1
end
redis.call('ZREM', KEYS[2], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[4])
if KEYS[4] then
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[7], '*', 'type', 'message', 'room', ARGV[6], 'seq', ARGV[2], 'body', ARGV[4])
end
redis.call(ARGV[#ARGV], KEYS[3], ARGV[5])
return 1
