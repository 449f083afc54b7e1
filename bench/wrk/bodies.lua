-- wrk: POST each line of the file named by the first script argument (a JSON body) once, to the
-- path named by the second. Thread k of n takes lines k, k+n, ...: no body is sent twice, since the
-- server refuses a replayed signature. Once a thread has sent all of its lines it sends none.
local threads = {}
local counter = 0
setup = function(thread)
  thread:set('tid', counter)
  counter = counter + 1
  table.insert(threads, thread)
end
init = function(args)
  bodies = {}
  local n = 0
  local nthreads = tonumber(args[3])
  for line in io.lines(args[1]) do
    if n % nthreads == tid then bodies[#bodies + 1] = line end
    n = n + 1
  end
  path = args[2]
  next_body = 0
  headers = { ['Content-Type'] = 'application/json' }
end
request = function()
  next_body = next_body + 1
  if next_body > #bodies then
    -- Out of fresh bodies: a cheap GET that is not counted as a keep-alive (404s are non-2xx).
    return wrk.format('GET', '/v1/nothing-left')
  end
  return wrk.format('POST', path, headers, bodies[next_body])
end
