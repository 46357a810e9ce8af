#!/bin/sh
# Runs the four API targets of issue 5 against a running Release hubd.
# Usage: HUB=http://127.0.0.1:8081 TOKEN=<admin token> bench/api/run.sh
set -eu
HUB=${HUB:-http://127.0.0.1:8081}
: "${TOKEN:?set TOKEN to an admin API token}"
export TOKEN
here=$(dirname "$0")
echo "== POST /users: 10,000 users in batches of 1,000"
start=$(date +%s.%N)
for b in $(seq 0 9); do
  names=$(python3 -c "import json;print(json.dumps({'usernames':['bench-%d' % i for i in range($b*1000, ($b+1)*1000)]}))")
  curl -s -o /dev/null -w '%{http_code} ' -H "Authorization: token $TOKEN" -d "$names" "$HUB/hub/api/users"
done
end=$(date +%s.%N)
echo; python3 -c "print('total %.3f s' % ($end - $start))"
echo "== token GET /hub/api/user"
wrk -t2 -c16 -d10s -s "$here/whoami.lua" "$HUB/hub/api/user"
echo "== GET /hub/api/users?limit=200"
wrk -t2 -c16 -d10s -s "$here/users_page.lua" "$HUB/hub/api/users?limit=200"
echo "== group member adds from 16 clients"
curl -s -o /dev/null -H "Authorization: token $TOKEN" -X POST "$HUB/hub/api/groups/bench"
wrk -t2 -c16 -d10s -s "$here/group_add.lua" "$HUB"
