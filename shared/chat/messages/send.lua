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
-- ARGV[9] the archive stream's approximate MAXLEN   ARGV[10] the trim
-- guard's backlog max: used only with the archive feed on
-- (messages.ArchiveFeed), which also passes
-- KEYS[8] the room's archive stream (keys.Space.ArchiveStreamFor)
-- ARGV[11] the sender's notifications channel, or '' (none: a Cluster,
-- where it is on another slot)   ARGV[12] the UNREAD 0 note published on
-- it when sending read more than the message itself (the sender had
-- unread messages in the room), in this same round trip
-- ARGV[13] (last) the publish command, PUBLISH or SPUBLISH (events.Script)
-- Returns {message JSON, seq, receiver id (0 = none), replayed (1/0),
-- sender's previous read position, too large (1/0), user, read position,
-- user, read position, ...}: after sending, the sender
-- has read up to the message; the pairs are the members other than the
-- sender with no session in the room (no presence field), for notifications, none
-- when the room has more than ARGV[8] members (too large = 1).
-- Error replies: NOROOM / NOTMEMBER / NORCV.
--
-- Every command here runs for every message, so the common case is kept
-- short: a send with a receiver into a room of two (a direct chat) runs 11
-- commands, one membership check for both users and one presence lookup;
-- 12 with the archive feed on (the XADD). Once a room holds more than the
-- history length, each send adds the ZREMRANGEBYSCORE of the trim, and with
-- the feed on the HGET of archivedSeq before it. When the sender had
-- unread messages (in a conversation, every reply), one PUBLISH of the
-- UNREAD note is added (ARGV[11]); without it the notifier would need a
-- round trip of its own for that note.

-- after does the post-send half. member: the sender was checked to be a
-- member; pair: rcv is a member too (checked, or read from the members),
-- and another user than the sender.
local function after(seq, msg, rcv, member, pair)
  local reads
  if pair then
    reads = redis.call('HMGET', KEYS[7], ARGV[2], rcv)
  else
    reads = {redis.call('HGET', KEYS[7], ARGV[2])}
  end
  local prev = tonumber(reads[1] or '0')
  if prev < seq and (member or redis.call('SISMEMBER', KEYS[2], ARGV[2]) == 1) then
    redis.call('HSET', KEYS[7], ARGV[2], seq)
  end
  if prev < seq - 1 and ARGV[11] ~= '' then
    redis.call(ARGV[#ARGV], ARGV[11], ARGV[12])
  end
  local replayed = 0
  if not member then replayed = 1 end
  local out = {msg, seq, tonumber(rcv), replayed, prev, 0}
  local most = tonumber(ARGV[8])
  if most < 0 then return out end
  -- Count before listing: a room too large is told so in O(1), not by
  -- reading all of its members for every message.
  local n = redis.call('SCARD', KEYS[2])
  if n > most then
    out[6] = 1
    return out
  end
  -- presence.lua deletes a user's field when their count drops to 0, so
  -- every field is a user with a session in the room.
  if pair and n == 2 then
    -- The sender and rcv, both members, are the whole room.
    if redis.call('HEXISTS', KEYS[6], rcv) == 0 then
      out[7] = tonumber(rcv)
      out[8] = tonumber(reads[2] or '0')
    end
    return out
  end
  local here = {}
  for _, u in ipairs(redis.call('HKEYS', KEYS[6])) do here[u] = true end
  local away = {}
  for _, u in ipairs(redis.call('SMEMBERS', KEYS[2])) do
    if u ~= ARGV[2] and not here[u] then away[#away + 1] = u end
  end
  if #away > 0 then
    local rs = redis.call('HMGET', KEYS[7], unpack(away))
    for i, u in ipairs(away) do
      out[#out + 1] = tonumber(u)
      out[#out + 1] = tonumber(rs[i] or '0')
    end
  end
  return out
end

local prev = redis.call('ZSCORE', KEYS[5], ARGV[7])
if prev then
  local stored = redis.call('ZRANGEBYSCORE', KEYS[3], prev, prev)
  if stored[1] then return after(tonumber(prev), stored[1], '0', false, false) end
end
-- One membership check for sender and receiver. A member set implies the
-- room: join writes the meta hash before the members, and rooms are never
-- deleted, so the meta hash is looked at only to tell NOROOM from NOTMEMBER.
local rcv = ARGV[3]
local is
if rcv ~= '0' then
  is = redis.call('SMISMEMBER', KEYS[2], ARGV[2], rcv)
else
  is = {redis.call('SISMEMBER', KEYS[2], ARGV[2])}
end
if is[1] == 0 then
  if redis.call('EXISTS', KEYS[1]) == 0 then
    return redis.error_reply('NOROOM room not found')
  end
  return redis.error_reply('NOTMEMBER sender is not a member of the room')
end
if rcv ~= '0' then
  if is[2] == 0 then
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
local feed = KEYS[8]
if feed then
  redis.call('XADD', feed, 'MAXLEN', '~', ARGV[9], '*', 'type', 'message', 'room', ARGV[1], 'seq', seq, 'body', msg)
end
redis.call('ZADD', KEYS[5], seq, ARGV[7])
-- The send keys of the last 10,000 messages (up to 10,099: trimmed every
-- 100th message, not on every one).
if seq > 10000 and seq % 100 == 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', seq - 10000)
end
local keep = tonumber(ARGV[5])
if keep > 0 and seq > keep then
  local cut = seq - keep
  if feed then
    -- The trim guard: never drop a message PostgreSQL lacks (above
    -- archivedSeq), unless the archive is more than ARGV[10] behind.
    local archived = tonumber(redis.call('HGET', KEYS[1], 'archivedSeq') or '0')
    cut = math.max(math.min(cut, archived), cut - tonumber(ARGV[10]))
  end
  if cut > 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', cut)
  end
end
redis.call('HSET', KEYS[1], 'lastMessageAt', ARGV[6])
redis.call(ARGV[#ARGV], KEYS[4], msg)
return after(seq, msg, rcv, true, rcv ~= '0' and rcv ~= ARGV[2])
