-- Workload (a): the IMDSv2 cold-start flow, one new TCP connection per request as the smithy SDK does on a
-- cold start: PUT /latest/api/token on one connection, then GET instance-id with that token on another.
-- "Connection: close" makes the server end each connection after its response, so wrk reconnects.
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua"
local report = require("wrk-report")
setup = report.setup
done = report.done

local tokens = {}
local putRequest
gets, puts, bad = 0, 0, 0

function init(args)
  putRequest = wrk.format("PUT", "/latest/api/token",
    { ["X-aws-ec2-metadata-token-ttl-seconds"] = "21600", ["Connection"] = "close" })
end

function request()
  local token = table.remove(tokens)
  if token then
    return wrk.format("GET", "/latest/meta-data/instance-id",
      { ["X-aws-ec2-metadata-token"] = token, ["Connection"] = "close" })
  end
  return putRequest
end

function response(status, headers, body)
  if status ~= 200 then
    bad = bad + 1
  elseif body:sub(1, 2) == "i-" then
    gets = gets + 1
  else
    puts = puts + 1
    table.insert(tokens, body)
  end
end
