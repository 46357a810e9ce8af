#!/bin/sh
# Runs the four API targets against a running Release hubd (bench/README-api.md).
# Usage: HUB=http://127.0.0.1:8081 TOKEN=<admin token> bench/api/run.sh
# Loopback only; every wrk run is bounded (10 s).
set -eu
HUB=${HUB:-http://127.0.0.1:8081}
: "${TOKEN:?set TOKEN to an admin API token}"
here=$(dirname "$0")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The request bodies are made before the clock starts: only hubd's time is measured.
for b in $(seq 0 9); do
  python3 -c "import json;print(json.dumps({'usernames':['bench-%d' % i for i in range($b*1000, ($b+1)*1000)]}))" > "$tmp/body$b.json"
done
echo "== POST /users: 10,000 users in batches of 1,000"
start=$(date +%s.%N)
for b in $(seq 0 9); do
  curl -s -o /dev/null -w '%{http_code} ' -H "Authorization: token $TOKEN" --data-binary @"$tmp/body$b.json" "$HUB/hub/api/users"
done
end=$(date +%s.%N)
echo; python3 -c "print('total %.3f s' % ($end - $start))"
user_token=$(curl -s -H "Authorization: token $TOKEN" -d '{}' "$HUB/hub/api/users/bench-1/tokens" |
  python3 -c "import sys, json; print(json.load(sys.stdin)['token'])")
echo "== token GET /hub/api/user (a user's token)"
TOKEN=$user_token wrk -t2 -c16 -d10s -s "$here/whoami.lua" "$HUB/hub/api/user"
echo "== token GET /hub/api/user (the admin service's token: a long scope list)"
TOKEN=$TOKEN wrk -t2 -c16 -d10s -s "$here/whoami.lua" "$HUB/hub/api/user"
echo "== GET /hub/api/users?limit=200"
TOKEN=$TOKEN wrk -t2 -c16 -d10s -s "$here/users_page.lua" "$HUB/hub/api/users?limit=200"
echo "== group member adds from 16 clients"
curl -s -o /dev/null -H "Authorization: token $TOKEN" -X POST "$HUB/hub/api/groups/bench"
TOKEN=$TOKEN wrk -t2 -c16 -d10s -s "$here/group_add.lua" "$HUB"
