-- wrk -t2 -c16 -d10s -s bench/api/users_page.lua "http://127.0.0.1:PORT/hub/api/users?limit=200"
wrk.headers["Authorization"] = "token " .. os.getenv("TOKEN")
