-- Read one page of a room's history, bounded by count and by bytes, so a
-- page of large entries never makes anyone hold more than the budget.
-- KEYS[1] room history zset (score seq, member the message JSON)
-- ARGV[1] lowest score, ZRANGEBYSCORE syntax ('-inf', '(17')
-- ARGV[2] highest score ('+inf', '(120')
-- ARGV[3] most entries
-- ARGV[4] most bytes of entries, each counted with one separator byte
--         (0 = no byte bound); the first entry is returned whatever its size
-- ARGV[5] '1' oldest first, '0' newest first
-- KEYS[2] (optional, with an archive) room meta hash
-- Returns {more (1/0), entry, entry, ...}: more is 1 when entries beyond
-- the page match (the count or the byte bound cut it). With KEYS[2] the
-- reply is {more, boundary, entry, ...}: boundary is the oldest seq
-- history retains, or lastSeq + 1 when it holds none (all seqs below it
-- are the archive's to give).
local limit = tonumber(ARGV[3])
local budget = tonumber(ARGV[4])
local asc = ARGV[5] == '1'
local out = {0}
if KEYS[2] then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  if first[2] then
    out[2] = tonumber(first[2])
  else
    out[2] = tonumber(redis.call('HGET', KEYS[2], 'lastSeq') or '0') + 1
  end
end
local head = #out -- reply values before the entries
local used = 0
local offset = 0
-- Batches keep the script's own memory near the budget too: a page of
-- 500 entries of 25 KB is never read whole just to return 40 of them.
while true do
  local want = math.min(32, limit + 1 - (#out - head))
  local vals
  if asc then
    vals = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[2], 'LIMIT', offset, want)
  else
    vals = redis.call('ZREVRANGEBYSCORE', KEYS[1], ARGV[2], ARGV[1], 'LIMIT', offset, want)
  end
  for _, v in ipairs(vals) do
    if #out - head == limit or (budget > 0 and #out > head and used + #v + 1 > budget) then
      out[1] = 1
      return out
    end
    used = used + #v + 1
    out[#out + 1] = v
  end
  if #vals < want then return out end
  offset = offset + #vals
end
