-- Move one member's read position forwards, and announce the move, in one
-- atomic step: positions never go back and READ events follow their order.
-- KEYS[1] room meta hash   KEYS[2] room member set
-- KEYS[3] room read hash   KEYS[4] room events channel
-- ARGV[1] user id   ARGV[2] wanted seq (capped at the room's lastSeq)
-- ARGV[3] READ event JSON up to the seq ('{"type":"READ",...,"seq":'), or
--         '' to move silently   ARGV[4] the event's rest (',"at":"..."}')
-- ARGV[5] (last) the publish command, PUBLISH or SPUBLISH (events.Script)
-- KEYS[5] (optional) a hash, with ARGV[5] a field (the publish command is
-- then ARGV[6]): the move is made only if the hash holds the field. At
-- CONNECT they are the room's session hash and the new session's id, so
-- only a session that presence.lua entered, earlier in the same pipeline
-- (after its claim passed), moves: READ never precedes its ENTER, and a
-- refused session moves nothing.
-- Returns {position, moved (1/0), lastSeq}, {0, -1, 0} when KEYS[5] lacks
-- the field (nothing done), or an error reply NOROOM / NOTMEMBER.
if KEYS[5] and redis.call('HEXISTS', KEYS[5], ARGV[5]) == 0 then
  return {0, -1, 0}
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  return redis.error_reply('NOROOM room not found')
end
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 0 then
  return redis.error_reply('NOTMEMBER not a member of the room')
end
local last = tonumber(redis.call('HGET', KEYS[1], 'lastSeq') or '0')
local want = tonumber(ARGV[2])
if want > last then want = last end
local cur = tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0')
if want <= cur then
  return {cur, 0, last}
end
redis.call('HSET', KEYS[3], ARGV[1], want)
if ARGV[3] ~= '' then
  redis.call(ARGV[#ARGV], KEYS[4], ARGV[3] .. want .. ARGV[4])
end
return {want, 1, last}
