-- wrk script of bench/run.py: every request carries one of the signed-in
-- sessions the harness prepared, in turn; each thread takes its own share.
--   wrk ... -s bench/wrk.lua URL -- MODE PATH SESSIONS_FILE THREADS ORIGIN
-- MODE: get (expects 200), decide (a valid CSRF'd decision POST, expects the
-- redirect to a new receipt), bare (a POST of the same size, expects 200).
-- Each session's choices go round opt_in, opt_out, undecided from its current
-- one, so every POST is a change and records a decision.

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local choices = { "opt_in", "opt_out", "undecided" }

function init(args)
  mode, path, origin = args[1], args[2], args[5]
  local nthreads = tonumber(args[4])
  sessions = {}
  local i = 0
  for line in io.lines(args[3]) do
    if i % nthreads == id then
      local sid, csrf, token, current = line:match("(%S+) (%S+) (%S+) (%S+)")
      table.insert(sessions, { sid = sid, csrf = csrf, token = token, n = tonumber(current) })
    end
    i = i + 1
  end
  turn = 0
  unexpected = 0
end

function request()
  turn = turn % #sessions + 1
  local s = sessions[turn]
  local headers = { Cookie = "sessionid=" .. s.sid .. "; csrftoken=" .. s.csrf, ["X-Forwarded-Proto"] = "https" }
  if mode == "get" then
    return wrk.format("GET", path, headers)
  end
  s.n = s.n % 3 + 1
  headers["Content-Type"] = "application/x-www-form-urlencoded"
  headers["Origin"] = origin
  headers["Referer"] = origin .. path
  local body = "csrfmiddlewaretoken=" .. s.token .. "&choice=" .. choices[s.n] .. "&comment=&warned=1"
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  if mode == "decide" then
    local location = headers["Location"] or ""
    if status ~= 302 or not location:find("/receipts/", 1, true) then
      unexpected = unexpected + 1
    end
  elseif status ~= 200 then
    unexpected = unexpected + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("unexpected")
  end
  io.write(string.format("unexpected responses: %d\n", total))
end
