-- RFC 2544 throughput of linerate with Pktgen-DPDK on a two-port NIC:
-- port 0 -> linerate p0, linerate p1 -> port 1 (see bench/README.md and
-- linerate.yaml next to this file). For each frame size, a binary search of
-- the highest rate (% of the link) at which nothing is lost over a trial;
-- results in linerate-rfc2544.csv.
package.path = package.path .. ";?.lua;test/?.lua;app/?.lua;"
require "Pktgen"

-- edit these ----------------------------------------------------------------
local txport    = "0"
local rxport    = "1"
local dut_mac   = "02:00:00:00:00:10"  -- MAC of linerate p0
local src_ip    = "198.18.0.2"          -- generator side of p0's subnet
local dst_first = "198.19.128.1"        -- routed by linerate via 198.19.0.2 (port 1)
local dst_last  = "198.19.128.254"      -- one flow per destination address
local sport     = 1024
local dport     = 5001
local link_gbps = 10
local sizes     = { 64, 128, 256, 512, 1024, 1280, 1518 }
local trial_ms  = 10000                 -- RFC 2544: at least 60 s for the final figure
local settle_ms = 2000                  -- packets in flight come back
local precision = 0.2                   -- stop the search at this % of the link
-------------------------------------------------------------------------------

local function range_fixed(fn, value)
    fn(txport, "start", value)
    fn(txport, "min", value)
    fn(txport, "max", value)
end

local function setup()
    pktgen.screen("off")
    pktgen.set(txport, "count", 0)
    pktgen.set(txport, "burst", 64)
    pktgen.set_proto(txport, "udp")
    pktgen.set_type(txport, "ipv4")
    -- range mode takes every field from the range settings
    range_fixed(pktgen.dst_mac, dut_mac)
    pktgen.dst_mac(txport, "inc", "00:00:00:00:00:00")
    range_fixed(pktgen.src_ip, src_ip)
    pktgen.src_ip(txport, "inc", "0.0.0.0")
    pktgen.dst_ip(txport, "start", dst_first)
    pktgen.dst_ip(txport, "min", dst_first)
    pktgen.dst_ip(txport, "max", dst_last)
    pktgen.dst_ip(txport, "inc", "0.0.0.1")
    range_fixed(pktgen.src_port, sport)
    pktgen.src_port(txport, "inc", 0)
    range_fixed(pktgen.dst_port, dport)
    pktgen.dst_port(txport, "inc", 0)
    pktgen.range(txport, "on")
end

-- One trial: returns packets sent on txport and received on rxport.
local function trial(size, rate)
    range_fixed(pktgen.pkt_size, size)
    pktgen.pkt_size(txport, "inc", 0)
    pktgen.set(txport, "rate", rate)
    pktgen.clr()
    pktgen.delay(500)
    pktgen.start(txport)
    pktgen.delay(trial_ms)
    pktgen.stop(txport)
    pktgen.delay(settle_ms)
    local tx = pktgen.portStats(txport, "port")[tonumber(txport)].opackets
    local rx = pktgen.portStats(rxport, "port")[tonumber(rxport)].ipackets
    printf("size %4d rate %6.2f%%: tx %d rx %d lost %d\n", size, rate, tx, rx, tx - rx)
    return tx, rx
end

-- frames per second at `rate` % of the link, 20 B preamble + IFG per frame
local function pps(size, rate)
    return rate / 100 * link_gbps * 1e9 / ((size + 20) * 8)
end

local function search(size)
    local lo, hi, best = 0, 100, nil
    local rate = 100
    while true do
        local tx, rx = trial(size, rate)
        if tx > 0 and rx >= tx then
            best = { rate = rate, tx = tx, rx = rx }
            lo = rate
        else
            hi = rate
        end
        if hi - lo <= precision then break end
        rate = (lo + hi) / 2
    end
    return best
end

setup()
local out = io.open("linerate-rfc2544.csv", "w")
out:write("frame_bytes,zero_loss_rate_pct,mpps,gbps_l1,tx,rx\n")
for _, size in ipairs(sizes) do
    local best = search(size)
    if best then
        out:write(string.format("%d,%.2f,%.3f,%.3f,%d,%d\n", size, best.rate,
            pps(size, best.rate) / 1e6, best.rate / 100 * link_gbps, best.tx, best.rx))
    else
        out:write(string.format("%d,0,0,0,0,0\n", size))
    end
    out:flush()
end
out:close()
printf("results in linerate-rfc2544.csv\n")
