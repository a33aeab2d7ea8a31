-- Append one chat message to a room and publish it, atomically, and do the
-- room-side half of the post-send step in the same round trip.
-- KEYS[1] room meta hash     KEYS[2] room member set
-- KEYS[3] room history zset  KEYS[4] room messages channel
-- KEYS[5] room send-key zset (idempotency key -> seq of the message it stored)
-- KEYS[6] room presence hash KEYS[7] room read hash
-- ARGV[1] room id   ARGV[2] sender id   ARGV[3] receiver id (0 = none)
-- ARGV[4] JSON tail: ,"message":"...","sentAt":"..."}
-- ARGV[5] history length kept (count)   ARGV[6] now (unix ms)
-- ARGV[7] idempotency key: a script run again with a key it already stored
-- (a client retry after a lost reply) returns that message, changing nothing.
-- ARGV[8] most members listed as away (-1: list none)
-- ARGV[9] (last) the publish command, PUBLISH or SPUBLISH (events.Script)
-- Returns {message JSON, seq, receiver id (0 = none), replayed (1/0),
-- sender's previous read position, too large (1/0), user, read position,
-- user, read position, ...}: after sending, the sender
-- has read up to the message; the pairs are the members other than the
-- sender with no session in the room (no presence field), for notifications, none
-- when the room has more than ARGV[8] members (too large = 1).
-- Error replies: NOROOM / NOTMEMBER / NORCV.
local function after(seq, msg, rcv, member)
  local prev = tonumber(redis.call('HGET', KEYS[7], ARGV[2]) or '0')
  if prev < seq and (member or redis.call('SISMEMBER', KEYS[2], ARGV[2]) == 1) then
    redis.call('HSET', KEYS[7], ARGV[2], seq)
  end
  local most = tonumber(ARGV[8])
  local replayed = 0
  if not member then replayed = 1 end
  if most < 0 then return {msg, seq, tonumber(rcv), replayed, prev, 0} end
  -- Count before listing: a room too large is told so in O(1), not by
  -- reading all of its members for every message.
  if redis.call('SCARD', KEYS[2]) > most then return {msg, seq, tonumber(rcv), replayed, prev, 1} end
  local members = redis.call('SMEMBERS', KEYS[2])
  -- presence.lua deletes a user's field when their count drops to 0, so
  -- every field is a user with a session in the room.
  local here = {}
  for _, u in ipairs(redis.call('HKEYS', KEYS[6])) do here[u] = true end
  local away = {}
  for _, u in ipairs(members) do
    if u ~= ARGV[2] and not here[u] then away[#away + 1] = u end
  end
  local out = {msg, seq, tonumber(rcv), replayed, prev, 0}
  if #away > 0 then
    local reads = redis.call('HMGET', KEYS[7], unpack(away))
    for i, u in ipairs(away) do
      out[#out + 1] = tonumber(u)
      out[#out + 1] = tonumber(reads[i] or '0')
    end
  end
  return out
end

local prev = redis.call('ZSCORE', KEYS[5], ARGV[7])
if prev then
  local stored = redis.call('ZRANGEBYSCORE', KEYS[3], prev, prev)
  if stored[1] then return after(tonumber(prev), stored[1], '0', false) end
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
redis.call(ARGV[#ARGV], KEYS[4], msg)
return after(seq, msg, rcv, true)
