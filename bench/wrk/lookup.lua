-- wrk: GET /v1/peers/:id over the user ids in the file named by the first script argument.
local ids = {}
local i = 0
init = function(args)
  for line in io.lines(args[1]) do ids[#ids + 1] = line end
  i = math.random(#ids)
end
request = function()
  i = i % #ids + 1
  return wrk.format('GET', '/v1/peers/' .. ids[i])
end
