# Shared by the serving benchmarks (run.sh, compare.sh): source it.

# INFER_ROW is one titanic row as an inference protocol infer request.
INFER_ROW='{"inputs": [{"name": "class", "datatype": "BYTES", "shape": [1], "data": ["1"]}, {"name": "sex", "datatype": "BYTES", "shape": [1], "data": ["female"]}, {"name": "age", "datatype": "FP64", "shape": [1], "data": [30]}, {"name": "embarked", "datatype": "BYTES", "shape": [1], "data": ["S"]}]}'

# post_script BODY LUA: writes LUA, a wrk script that POSTs the JSON file BODY.
post_script() {
	cat >"$2" <<LUA
local f = assert(io.open("$1", "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
LUA
}
