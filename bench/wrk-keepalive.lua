-- Workload (b): GET instance-id with a token over keep-alive connections. The token comes as the script
-- argument (fetched once before the run).
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua"
local report = require("wrk-report")
setup = report.setup
done = report.done

local getRequest
gets, puts, bad = 0, 0, 0

function init(args)
  getRequest = wrk.format("GET", "/latest/meta-data/instance-id", { ["X-aws-ec2-metadata-token"] = args[1] })
end

function request()
  return getRequest
end

function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 else gets = gets + 1 end
end
