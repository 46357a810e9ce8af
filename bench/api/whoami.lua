-- wrk -t2 -c16 -d10s -s bench/api/whoami.lua http://127.0.0.1:PORT/hub/api/user  (TOKEN in the environment)
wrk.headers["Authorization"] = "token " .. os.getenv("TOKEN")
