-- Adds members one by one: each request adds user "bench-<n>" to group "bench" (users must exist).
-- wrk -t2 -c16 -d10s -s bench/api/group_add.lua http://127.0.0.1:PORT
wrk.headers["Authorization"] = "token " .. os.getenv("TOKEN")
wrk.headers["Content-Type"] = "application/json"
local counter = 0
request = function()
  counter = counter + 1
  local body = '{"users": ["bench-' .. (counter % 2000) .. '"]}'
  return wrk.format("POST", "/hub/api/groups/bench/users", nil, body)
end
