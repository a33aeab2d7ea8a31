-- Append one chat message to a room and publish it, atomically.
-- KEYS[1] room meta hash     KEYS[2] room member set
-- KEYS[3] room history zset  KEYS[4] room messages channel
-- KEYS[5] room send-key zset (idempotency key -> seq of the message it stored)
-- ARGV[1] room id   ARGV[2] sender id   ARGV[3] receiver id (0 = none)
-- ARGV[4] JSON tail: ,"message":"...","sentAt":"..."}
-- ARGV[5] history length kept (count)   ARGV[6] now (unix ms)
-- ARGV[7] idempotency key: a script run again with a key it already stored
-- (a client retry after a lost reply) returns that message, changing nothing.
-- Returns the message JSON, or an error reply NOROOM / NOTMEMBER / NORCV.
local prev = redis.call('ZSCORE', KEYS[5], ARGV[7])
if prev then
  local stored = redis.call('ZRANGEBYSCORE', KEYS[3], prev, prev)
  if stored[1] then return stored[1] end
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  return redis.error_reply('NOROOM room not found')
end
if redis.call('SISMEMBER', KEYS[2], ARGV[2]) == 0 then
  return redis.error_reply('NOTMEMBER sender is not a member of the room')
end
local rcv = ARGV[3]
if rcv ~= '0' then
  if redis.call('SISMEMBER', KEYS[2], rcv) == 0 then
    return redis.error_reply('NORCV rcvId is not a member of the room')
  end
elseif redis.call('HGET', KEYS[1], 'type') == 'direct' then
  for _, m in ipairs(redis.call('SMEMBERS', KEYS[2])) do
    if m ~= ARGV[2] then rcv = m end
  end
end
local seq = redis.call('HINCRBY', KEYS[1], 'lastSeq', 1)
local rcvPart = ''
if rcv ~= '0' then rcvPart = ',"rcvId":' .. rcv end
local msg = '{"id":"' .. ARGV[1] .. '-' .. seq .. '","chatRoomId":' .. ARGV[1] ..
  ',"seq":' .. seq .. ',"sendId":' .. ARGV[2] .. rcvPart .. ARGV[4]
redis.call('ZADD', KEYS[3], seq, msg)
redis.call('ZADD', KEYS[5], seq, ARGV[7])
if seq > 10000 then
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', seq - 10000)
end
local keep = tonumber(ARGV[5])
if keep > 0 and seq > keep then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', seq - keep)
end
redis.call('HSET', KEYS[1], 'lastMessageAt', ARGV[6])
redis.call('PUBLISH', KEYS[4], msg)
return msg
