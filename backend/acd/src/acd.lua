-- Hotline ACD: one atomic step of the reservation state machine (the same rules as
-- src/model.rs, which is the specification; tests/redis_model.rs checks they agree).
-- KEYS[1] agents hash, KEYS[2] queues hash, KEYS[3] calls hash, KEYS[4] meta hash; all four
-- carry the tenant's hash tag {t:<tenant>} so the script also runs on Redis Cluster.
-- ARGV[1] = now (ms), ARGV[2] = operation, ARGV[3..] = its arguments.
-- Returns {"ok", event json...} or {"err", code}.

local AK, QK, CK, MK = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now = tonumber(ARGV[1])
local op = ARGV[2]

-- Records are read and decoded on first use (a tenant has many agents; most steps touch a
-- few). raw[id] is an id's stored JSON, `true` for a record created by this step, `false` for
-- one removed by it; the record table reads (HGET) and decodes an id when it is first used.
-- Scans over all records (dispatch, tick: `in_state`) read the whole hash once (HGETALL) and
-- decode only the records that can be in the state they look for.
local function load(key)
  local raw, full = {}, false
  local t = setmetatable({}, {__index = function(t, id)
    local r = raw[id]
    if r == nil and not full then
      r = redis.call('HGET', key, id)
      raw[id] = r  -- false: not stored
    end
    if type(r) ~= 'string' then return nil end
    local v = cjson.decode(r)
    rawset(t, id, v)
    return v
  end})
  local function all()
    if not full then
      local kv = redis.call('HGETALL', key)
      for i = 1, #kv, 2 do
        if raw[kv[i]] == nil then raw[kv[i]] = kv[i + 1] end
      end
      full = true
    end
    return raw
  end
  return t, all, raw
end

local agents, all_agents, raw_a = load(AK)
local queues = load(QK)
local calls, all_calls, raw_c = load(CK)

-- Ids (sorted) of records whose state is `state` now: records already decoded are checked
-- as they are; stored JSON is decoded only when it holds `"state":"<state>"` (as cjson
-- writes it) or has no `"state":"` at all (another layout, e.g. with spaces).
local function in_state(t, all, state)
  local ids, want = {}, '"state":"' .. state .. '"'
  for id, r in pairs(all()) do
    local rec = rawget(t, id)
    if rec == nil and type(r) == 'string'
      and (string.find(r, want, 1, true) or not string.find(r, '"state":"', 1, true)) then
      rec = t[id]
    end
    if rec ~= nil and rec.state == state then ids[#ids + 1] = id end
  end
  table.sort(ids)
  return ids
end

local function put_call(id, c) rawset(calls, id, c) raw_c[id] = true end
local function drop_call(id) rawset(calls, id, nil) raw_c[id] = false end
local dirty_a, dirty_q, dirty_c, removed_c = {}, {}, {}, {}
local events = {}

local function emit(ev, call, agent, to, waited)
  events[#events + 1] = cjson.encode({ev = ev, call = call or '', agent = agent or '',
    to = to or '', waited_ms = waited or 0})
end

local skill_cache = {}
local function skills(s)
  s = s or ''
  if skill_cache[s] then return skill_cache[s] end
  local out = {}
  for part in string.gmatch(s or '', '[^,]+') do
    local k, v = string.match(part, '^([^=]*)=(.*)$')
    if k then out[#out + 1] = {k, tonumber(v) or 0} else out[#out + 1] = {part, 0} end
  end
  skill_cache[s] = out
  return out
end

local function level(agent, name)
  for _, p in ipairs(skills(agent.skills)) do
    if p[1] == name then return p[2] end
  end
  return nil
end

local function serves(agent, qid)
  for q in string.gmatch(agent.queues or '', '[^,]+') do
    if q == qid then return true end
  end
  return false
end

local function eligible(agent, qid, queue)
  if agent.state ~= 'ready' or not serves(agent, qid) then return false end
  for _, req in ipairs(skills(queue.skills)) do
    local l = level(agent, req[1])
    if l == nil or l < req[2] then return false end
  end
  return true
end

local function score(agent, queue)
  local s = 0
  for _, req in ipairs(skills(queue.skills)) do s = s + (level(agent, req[1]) or 0) end
  return s
end

local function fail(code) return {'err', code} end

local function dispatch()
  local waiting = in_state(calls, all_calls, 'waiting')
  if #waiting == 0 then return end
  table.sort(waiting, function(a, b)
    local ca, cb = calls[a], calls[b]
    if ca.priority ~= cb.priority then return ca.priority > cb.priority end
    if ca.seq ~= cb.seq then return ca.seq < cb.seq end
    return a < b
  end)
  -- Only Ready agents can be offered a call (and none becomes Ready during dispatch).
  local agent_ids = in_state(agents, all_agents, 'ready')
  for _, cid in ipairs(waiting) do
    local c = calls[cid]
    local queue = queues[c.queue]
    if queue then
      local cands = {}
      local target = c.target or ''
      for _, aid in ipairs(agent_ids) do
        if target == '' then
          if eligible(agents[aid], c.queue, queue) then cands[#cands + 1] = aid end
        elseif aid == target and agents[aid].state == 'ready' then
          cands[#cands + 1] = aid
        end
      end
      if #cands > 0 then
        local chosen
        if queue.strategy == 'round_robin' then
          for _, aid in ipairs(cands) do
            if aid > (queue.last_agent or '') then chosen = aid break end
          end
          chosen = chosen or cands[1]
          queue.last_agent = chosen
          dirty_q[c.queue] = true
        else
          local function key(a)
            if queue.strategy == 'fewest_calls' then return 0, a.answered, a.idle_since end
            if queue.strategy == 'skills' then return -score(a, queue), 0, a.idle_since end
            return 0, 0, a.idle_since
          end
          for _, aid in ipairs(cands) do
            if chosen == nil then
              chosen = aid
            else
              local x1, x2, x3 = key(agents[aid])
              local y1, y2, y3 = key(agents[chosen])
              if x1 < y1 or (x1 == y1 and (x2 < y2 or (x2 == y2 and x3 < y3))) then
                chosen = aid
              end
            end
          end
        end
        local a = agents[chosen]
        a.state = 'ringing'
        a.call = cid
        dirty_a[chosen] = true
        c.state = 'offered'
        c.agent = chosen
        c['until'] = now + queue.ring_timeout_ms
        dirty_c[cid] = true
        emit('offered', cid, chosen)
      end
    end
  end
end

-- The agent of a call that ended or moved on: wrap-up (the queue's time) or ready.
local function release(qid, aid)
  local a = agents[aid]
  if not a then return end
  local wrapup = queues[qid] and queues[qid].wrapup_ms or 0
  a.call = ''
  if wrapup == 0 then
    a.state, a.idle_since = 'ready', now
  else
    a.state, a['until'] = 'wrap_up', now + wrapup
  end
  dirty_a[aid] = true
end

local function new_agent()
  return {state = '', reason = '', call = '', ['until'] = 0, idle_since = 0, answered = 0,
    queues = '', skills = ''}
end

if op == 'queue' then
  local id, cfg = ARGV[3], cjson.decode(ARGV[4])
  local ok = false
  for _, s in ipairs({'longest_idle', 'round_robin', 'fewest_calls', 'skills'}) do
    if cfg.strategy == s then ok = true end
  end
  if not ok then return fail('bad_value') end
  cfg.last_agent = queues[id] and queues[id].last_agent or ''
  queues[id] = cfg
  dirty_q[id] = true
elseif op == 'login' then
  local id = ARGV[3]
  local a = agents[id]
  if a and a.state ~= '' and a.state ~= 'logged_out' then return fail('busy') end
  a = new_agent()
  a.state, a.reason, a.idle_since, a.queues, a.skills = 'not_ready', 'login', now, ARGV[4], ARGV[5]
  agents[id] = a
  if type(raw_a[id]) ~= 'string' then raw_a[id] = true end
  dirty_a[id] = true
elseif op == 'set_state' then
  local id, state, reason = ARGV[3], ARGV[4], ARGV[5]
  local a = agents[id]
  if not a then return fail('unknown_agent') end
  if state ~= 'ready' and state ~= 'not_ready' and state ~= 'break' and state ~= 'logged_out' then
    return fail('bad_value')
  end
  if a.state == 'ringing' or a.state == 'on_call' then return fail('busy') end
  if a.state == 'logged_out' and state ~= 'logged_out' then return fail('logged_out') end
  if state == 'ready' and a.state ~= 'ready' then a.idle_since = now end
  a.state = state
  if state == 'not_ready' then a.reason = reason else a.reason = '' end
  a['until'] = 0
  dirty_a[id] = true
elseif op == 'arrive' then
  local id, qid, prio = ARGV[3], ARGV[4], tonumber(ARGV[5])
  if calls[id] then return fail('call_exists') end
  if not queues[qid] then return fail('unknown_queue') end
  local seq = redis.call('HINCRBY', MK, 'seq', 1)
  put_call(id, {queue = qid, priority = prio, seq = seq, enqueued_at = now, state = 'waiting',
    agent = '', ['until'] = 0, target = ''})
  dirty_c[id] = true
elseif op == 'answer' or op == 'reject' then
  local aid, cid = ARGV[3], ARGV[4]
  local c = calls[cid]
  if not c then return fail('unknown_call') end
  local a = agents[aid]
  if not a then return fail('unknown_agent') end
  if c.state ~= 'offered' or c.agent ~= aid then return fail('not_offered') end
  if op == 'answer' then
    c.state, c['until'] = 'connected', 0
    a.state = 'on_call'
    a.answered = a.answered + 1
    emit('connected', cid, aid)
  else
    c.state, c.agent, c['until'], c.target = 'waiting', '', 0, ''
    a.state, a.reason, a.call = 'not_ready', 'rejected', ''
    emit('rejected', cid, aid)
  end
  dirty_a[aid] = true
  dirty_c[cid] = true
elseif op == 'transfer' then
  local cid, qid, target = ARGV[3], ARGV[4], ARGV[5]
  local c = calls[cid]
  if not c then return fail('unknown_call') end
  if c.state ~= 'connected' then return fail('not_connected') end
  local to = qid
  if to == '' then to = c.queue end
  if not queues[to] then return fail('unknown_queue') end
  if target ~= '' then
    if not agents[target] then return fail('unknown_agent') end
    if target == c.agent then return fail('bad_value') end
  end
  local from = c.agent
  release(c.queue, from)
  c.state, c.queue, c.agent, c['until'], c.enqueued_at, c.target =
    'waiting', to, '', 0, now, target
  dirty_c[cid] = true
  emit('transferred', cid, from, to)
elseif op == 'hangup' then
  local cid = ARGV[3]
  local c = calls[cid]
  if not c then return fail('unknown_call') end
  drop_call(cid)
  removed_c[cid] = true
  local a = agents[c.agent]
  if c.state == 'connected' then
    release(c.queue, c.agent)
    emit('completed', cid, c.agent)
  else
    if c.state == 'offered' and a then
      a.state, a.call = 'ready', ''
      dirty_a[c.agent] = true
    end
    local waited = now - c.enqueued_at
    if waited < 0 then waited = 0 end
    emit('abandoned', cid, '', '', waited)
  end
elseif op == 'tick' then
  for _, aid in ipairs(in_state(agents, all_agents, 'wrap_up')) do
    local a = agents[aid]
    if a['until'] <= now then
      a.state, a['until'], a.idle_since = 'ready', 0, now
      dirty_a[aid] = true
      emit('wrapup_ended', '', aid)
    end
  end
  local ticking = in_state(calls, all_calls, 'offered')
  for _, cid in ipairs(in_state(calls, all_calls, 'waiting')) do ticking[#ticking + 1] = cid end
  table.sort(ticking)
  for _, cid in ipairs(ticking) do
    local c = calls[cid]
    if c.state == 'offered' and c['until'] <= now then
      local aid = c.agent
      c.state, c.agent, c['until'], c.target = 'waiting', '', 0, ''
      dirty_c[cid] = true
      local a = agents[aid]
      if a then
        a.state, a.reason, a.call = 'not_ready', 'missed', ''
        dirty_a[aid] = true
      end
      emit('ring_no_answer', cid, aid)
    elseif c.state == 'waiting' then
      local q = queues[c.queue]
      if q and q.max_wait_ms > 0 and q.overflow ~= '' and now - c.enqueued_at >= q.max_wait_ms
        and (q.overflow == 'voicemail' or queues[q.overflow]) then
        local to = q.overflow
        if to == 'voicemail' then
          drop_call(cid)
          removed_c[cid] = true
        else
          c.queue, c.enqueued_at = to, now
          dirty_c[cid] = true
        end
        emit('overflowed', cid, '', to)
      end
    end
  end
else
  return fail('bad_value')
end

dispatch()

for id in pairs(dirty_a) do redis.call('HSET', AK, id, cjson.encode(agents[id])) end
for id in pairs(dirty_q) do redis.call('HSET', QK, id, cjson.encode(queues[id])) end
for id in pairs(removed_c) do
  if calls[id] == nil then redis.call('HDEL', CK, id) end
end
for id in pairs(dirty_c) do
  if calls[id] ~= nil then redis.call('HSET', CK, id, cjson.encode(calls[id])) end
end
local out = {'ok'}
for _, e in ipairs(events) do out[#out + 1] = e end
return out
