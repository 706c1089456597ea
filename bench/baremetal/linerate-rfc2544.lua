-- RFC 2544 throughput of linerate, driven by Pktgen-DPDK (tested: 23.03.0,
-- built with -Denable_lua=true; bench/README.md "Bare metal"). Started by
-- bench/baremetal/run.sh through Pktgen-DPDK's tools/run.py; written for the
-- linerate bench kit. Port 0 -> linerate p0 -> linerate p1 -> port 1.
--
-- For each frame size, a binary search of the highest rate (% of the link)
-- at which nothing is lost. Every trial is one row of trials.csv (raw: the
-- generator's view); around each trial linerate's own counters are saved
-- (`linerate stats --json`), and run.sh joins both into the final CSVs
-- (bench/baremetal/report.ts). A trial that sent less than it was offered
-- is "generator-limited": it is no pass, whatever it lost.
--
-- Settings come from the environment (run.sh sets them), defaults below.
package.path = package.path .. ";?.lua;test/?.lua;app/?.lua;"
require "Pktgen"

local function env(name, default)
    local v = os.getenv(name)
    if v == nil or v == "" then return default end
    return v
end

local function list(text)
    local out = {}
    for n in string.gmatch(text, "[^,%s]+") do out[#out + 1] = tonumber(n) end
    return out
end

local txport    = env("LR_TX_PORT", "0")
local rxport    = env("LR_RX_PORT", "1")
local cli       = env("LR_CLI", "linerate")          -- linerate CLI, with --addr if the DUT is remote
local dut_port  = env("LR_DUT_PORT", "p0")           -- the linerate port the traffic enters
local out_dir   = env("LR_OUT", ".")
local src_ip    = env("LR_SRC_IP", "198.18.0.2")      -- generator side of p0's subnet
local dst_first = env("LR_DST_FIRST", "198.19.128.1") -- routed by linerate out of p1
local dst_last  = env("LR_DST_LAST", "198.19.128.254") -- one flow per destination address
local sport     = tonumber(env("LR_SPORT", "1024"))
local dport     = tonumber(env("LR_DPORT", "5001"))
local link_gbps = tonumber(env("LR_LINK_GBPS", "0"))  -- 0: the link speed the port reports
local sizes     = list(env("LR_SIZES", "64,128,256,512,1024,1280,1518"))
local trial_ms  = tonumber(env("LR_TRIAL_MS", "10000")) -- RFC 2544: 60 s for the final figure
local settle_ms = tonumber(env("LR_SETTLE_MS", "2000"))  -- packets in flight come back
local precision = tonumber(env("LR_PRECISION", "0.5"))   -- stop at this % of the link
local max_pct   = tonumber(env("LR_MAX_PCT", "100"))
-- sent below this share of what the rate asked for: generator-limited
local gen_floor = tonumber(env("LR_GEN_FLOOR", "0.99"))

local function sh(cmd)
    local p = assert(io.popen(cmd .. " 2>&1", "r"))
    local text = p:read("a")
    local ok = p:close()
    return text, ok
end

-- The MAC of linerate's input port, from `linerate port list --json`
-- (ports[] objects: "name" comes before "mac").
local function dut_mac()
    local cmd = cli .. " port list --json"
    local text, ok = sh(cmd)
    if not ok then error("cannot read linerate's ports (" .. cmd .. "):\n" .. text) end
    local at = string.find(text, '"name"%s*:%s*"' .. dut_port .. '"')
    if at == nil then error("linerate has no port " .. dut_port .. " (" .. cmd .. ")") end
    local mac = string.match(text, '"mac"%s*:%s*"(%x%x:%x%x:%x%x:%x%x:%x%x:%x%x)"', at)
    if mac == nil then error("no MAC for linerate port " .. dut_port .. " in:\n" .. text) end
    return mac
end

-- Pktgen-DPDK reports the link as "<UP-10000-FD>" (Mb/s) in portInfo.
local function port_speed_gbps(port)
    local function find(t)
        for k, v in pairs(t) do
            if k == "link_state" then return v end
            if type(v) == "table" then
                local s = find(v)
                if s then return s end
            end
        end
    end
    local state = find(pktgen.portInfo(port)) or ""
    return (tonumber(string.match(state, "UP%-(%d+)")) or 0) / 1000
end

-- frames per second at `pct` % of the link, 20 B preamble + IFG per frame
local function pps(size, pct)
    return pct / 100 * link_gbps * 1e9 / ((size + 20) * 8)
end

local function range4(fn, value, inc)
    fn(txport, "start", value)
    fn(txport, "min", value)
    fn(txport, "max", value)
    fn(txport, "inc", inc)
end

local function setup(mac)
    pktgen.screen("off")
    pktgen.set(txport, "count", 0)
    pktgen.set(txport, "burst", 64)
    -- the single-packet template (pktgen paces range mode by its size)
    pktgen.set_type(txport, "ipv4")
    pktgen.set_proto(txport, "udp")
    -- range mode: every field from pktgen.range.*, UDP from range.ip_proto
    pktgen.range.set_type(txport, "ipv4")
    pktgen.range.ip_proto(txport, "udp")
    range4(pktgen.range.dst_mac, mac, "00:00:00:00:00:00")
    range4(pktgen.range.src_ip, src_ip, "0.0.0.0")
    pktgen.range.dst_ip(txport, "start", dst_first)
    pktgen.range.dst_ip(txport, "min", dst_first)
    pktgen.range.dst_ip(txport, "max", dst_last)
    pktgen.range.dst_ip(txport, "inc", "0.0.0.1")
    range4(pktgen.range.src_port, sport, 0)
    range4(pktgen.range.dst_port, dport, 0)
    pktgen.set_range(txport, "on")
end

-- Wall-clock seconds. Pktgen-DPDK's Lua has no clock, and pktgen.delay(ms)
-- is no clock either: it sleeps in 10 ms steps and runs the CLI's timers
-- between them, so on a busy machine delay(5000) took 6.5-8 s (rates taken
-- from LR_TRIAL_MS were then 30-60 % above what was sent). A trial is timed
-- by two reads of the clock (date, run through popen) around it, none while
-- TX runs; the delay asked for is shortened by the overshoot seen so far, so
-- trials last about LR_TRIAL_MS, and `seconds` in trials.csv is measured.
local function now()
    local p = assert(io.popen("date +%s.%N", "r"))
    local t = tonumber(p:read("l"))
    p:close()
    if t == nil then error("cannot read the time (date +%s.%N)") end
    return t
end

-- pktgen.delay's overshoot so far (measured / asked), to aim the next trial
local stretch = 1.0

local trials = assert(io.open(out_dir .. "/trials.csv", "w"))
trials:write("trial,frame_bytes,rate_pct,offered_pps,seconds,tx,rx,lost,sent_pps,rx_pps,verdict\n")
local n_trial = 0

local function dut_stats(file)
    local cmd = cli .. " stats --json > " .. out_dir .. "/" .. file
    local text, ok = sh(cmd)
    if not ok then printf("warning: %s failed: %s\n", cmd, text) end
end

-- One trial: the verdict is "pass", "loss" or "generator-limited".
local function trial(size, pct)
    n_trial = n_trial + 1
    pktgen.set(txport, "size", size)
    range4(pktgen.range.pkt_size, size, 0)
    pktgen.set(txport, "rate", pct)
    pktgen.clr()
    pktgen.delay(500)
    dut_stats(string.format("trial-%03d-before.json", n_trial))
    local t0 = now()
    pktgen.start(txport)
    pktgen.delay(math.max(1, math.floor(trial_ms / stretch)))
    pktgen.stop(txport)
    -- the time TX ran: from before start to after stop (+ one date call)
    local secs = now() - t0
    stretch = math.max(1.0, secs * 1000 / math.max(1, math.floor(trial_ms / stretch)))
    pktgen.delay(settle_ms)
    dut_stats(string.format("trial-%03d-after.json", n_trial))
    local tx = pktgen.portStats(txport, "port")[tonumber(txport)].opackets
    local rx = pktgen.portStats(rxport, "port")[tonumber(rxport)].ipackets
    local offered = pps(size, pct)
    local lost = tx - rx
    local verdict
    if tx < gen_floor * offered * secs then
        verdict = "generator-limited"
    elseif lost > 0 then
        verdict = "loss"
    else
        verdict = "pass"
    end
    trials:write(string.format("%d,%d,%.3f,%.0f,%.3f,%d,%d,%d,%.0f,%.0f,%s\n", n_trial, size, pct,
        offered, secs, tx, rx, lost, tx / secs, rx / secs, verdict))
    trials:flush()
    printf("trial %d: %4d B at %7.3f%% (offered %.3f Mpps): sent %.3f Mpps, received %.3f Mpps, lost %d: %s\n",
        n_trial, size, pct, offered / 1e6, tx / secs / 1e6, rx / secs / 1e6, lost, verdict)
    return verdict
end

local function search(size)
    local lo, hi, pct = 0, max_pct, max_pct
    while true do
        if trial(size, pct) == "pass" then lo = pct else hi = pct end
        if hi - lo <= precision then break end
        pct = (lo + hi) / 2
    end
end

local ok, err = pcall(function()
    local mac = dut_mac()
    if link_gbps == 0 then link_gbps = port_speed_gbps(txport) end
    if not (link_gbps > 0) then error("link speed unknown: set LR_LINK_GBPS") end
    printf("linerate %s MAC %s, link %g Gbit/s, sizes %s, trials of %d ms\n", dut_port, mac, link_gbps,
        table.concat(sizes, ","), trial_ms)
    setup(mac)
    for _, size in ipairs(sizes) do search(size) end
end)
trials:close()
local done = assert(io.open(out_dir .. "/lua-done", "w"))
done:write(ok and string.format("ok link_gbps=%g\n", link_gbps) or ("error: " .. tostring(err) .. "\n"))
done:close()
if not ok then printf("linerate-rfc2544: %s\n", tostring(err)) end
pktgen.quit()
