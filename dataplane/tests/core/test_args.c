/* SPDX-License-Identifier: BSD-3-Clause */
/* Command line parsing of linerate-dp (no EAL). */
#include "args.h"
#include "lrtest.h"

static int
parse(struct lr_args *a, char *err, const char *const *args)
{
	char *argv[64];
	int argc = 0;

	argv[argc++] = (char *)"linerate-dp";
	while (*args != NULL)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	return lr_args_parse(argc, argv, a, err, 256);
}

int
main(void)
{
	struct lr_args a;
	char err[256];

	{
		const char *v[] = { "--ctl", "/tmp/x.sock", "--stats", "/dev/shm/x", NULL };

		CHECK_EQ(parse(&a, err, v), 0);
		CHECK(strcmp(a.name, "default") == 0);
		CHECK_EQ(a.rx_queues, 1);
		CHECK_EQ(a.rxd, 1024);
		CHECK_EQ(a.txd, 1024);
		CHECK_EQ(a.burst, 32);
		CHECK_EQ(a.idle_sleep_us, 0);
		CHECK_EQ(a.n_ports, 0);
		CHECK(a.routes4 >= (1u << 20));
		CHECK_EQ(a.ctl_uid, 0);
		CHECK_EQ(a.ctl_gid, -1);
		CHECK_EQ(a.ctl_timeout_ms, 5000);
		CHECK_EQ(a.ctl_idle_s, 300);
		CHECK_EQ(a.neigh_hold, 32);
		CHECK_EQ(a.punt_rate[0], 1000);
	}
	{
		const char *v[] = { "--ctl", "/tmp/x.sock", "--stats", "/dev/shm/x", "--ctl-uid", "1000",
				    "--ctl-gid", "0", "--ctl-timeout-ms", "250", "--ctl-idle-timeout", "0",
				    NULL };

		CHECK_EQ(parse(&a, err, v), 0);
		CHECK_EQ(a.ctl_uid, 1000);
		CHECK_EQ(a.ctl_gid, 0);
		CHECK_EQ(a.ctl_timeout_ms, 250);
		CHECK_EQ(a.ctl_idle_s, 0);
	}
	{
		const char *v[] = { "--ctl", "/tmp/x", "--stats", "/s", "--ctl-gid", "wheel", NULL };

		CHECK_EQ(parse(&a, err, v), -1);
		CHECK_STR_HAS(err, "--ctl-gid");
	}
	{
		/* neighbor limits and control-plane policing */
		const char *v[] = { "--ctl", "/tmp/x", "--stats", "/s", "--neigh-hold", "0", "--neigh-port-max", "100",
				    "--neigh-replies-only", "--punt-rate", "arp=50", "--punt-rate", "other=0", NULL };

		CHECK_EQ(parse(&a, err, v), 0);
		CHECK_EQ(a.neigh_hold, 0);
		CHECK_EQ(a.neigh_port_max, 100);
		CHECK_EQ(a.neigh_replies_only, 1);
		CHECK_EQ(a.punt_rate[0], 50);    /* arp */
		CHECK_EQ(a.punt_rate[1], 1000);  /* nd: the default */
		CHECK_EQ(a.punt_rate[3], 0);     /* other: unpoliced */
	}
	{
		const char *v[] = { "--ctl", "/tmp/x", "--stats", "/s", "--punt-rate", "bgp=5", NULL };

		CHECK_EQ(parse(&a, err, v), -1);
		CHECK_STR_HAS(err, "--punt-rate");
	}
	{
		const char *v[] = { "--ctl", "/tmp/x", "--stats", "/s", "--neigh-hold", "1000", NULL };

		CHECK_EQ(parse(&a, err, v), -1);
		CHECK_STR_HAS(err, "--neigh-hold");
	}
	{
		const char *v[] = { "--ctl", "/tmp/x", "--stats", "/s", "--ctl-timeout-ms", "0", NULL };

		CHECK_EQ(parse(&a, err, v), -1);
		CHECK_STR_HAS(err, "--ctl-timeout-ms");
	}
	{
		const char *v[] = { "--name", "edge1", "--ctl", "/tmp/x.sock", "--stats", "/dev/shm/x",
				    "--port", "p0=net_af_packet0,iface=veth0", "--port",
				    "p1=net_memif0,role=server,socket=/tmp/m.sock,socket-abstract=no",
				    "--rxq", "2", "--port-rxq", "p1=4", "--burst", "64",
				    "--idle-sleep-us", "100", "--rxd", "512", "--txd", "2048",
				    "--mbufs", "65536", NULL };

		CHECK_EQ(parse(&a, err, v), 0);
		CHECK(strcmp(a.name, "edge1") == 0);
		CHECK_EQ(a.n_ports, 2);
		CHECK(strcmp(a.ports[0].name, "p0") == 0);
		CHECK(strcmp(a.ports[0].device, "net_af_packet0,iface=veth0") == 0);
		CHECK(strcmp(a.ports[1].device,
			     "net_memif0,role=server,socket=/tmp/m.sock,socket-abstract=no") == 0);
		CHECK_EQ(a.rx_queues, 2);
		CHECK_EQ(a.ports[0].rx_queues, 0);
		CHECK_EQ(a.ports[1].rx_queues, 4);
		CHECK_EQ(a.burst, 64);
		CHECK_EQ(a.idle_sleep_us, 100);
		CHECK_EQ(a.rxd, 512);
		CHECK_EQ(a.txd, 2048);
		CHECK_EQ(a.mbufs, 65536);
	}
	{
		const char *v[] = { "--help", NULL };

		CHECK_EQ(parse(&a, err, v), 1);
	}
	/* errors name the option */
	{
		const char *v[] = { "--stats", "/dev/shm/x", NULL };

		CHECK_EQ(parse(&a, err, v), -1);
		CHECK_STR_HAS(err, "--ctl");
	}
	{
		const char *v[] = { "--ctl", "/tmp/x", NULL };

		CHECK_EQ(parse(&a, err, v), -1);
		CHECK_STR_HAS(err, "--stats");
	}
	{
		const char *v[] = { "--ctl", "/tmp/x", "--stats", "/s", "--burst", "65", NULL };

		CHECK_EQ(parse(&a, err, v), -1);
		CHECK_STR_HAS(err, "--burst");
	}
	{
		const char *v[] = { "--ctl", "/tmp/x", "--stats", "/s", "--rxq", "2x", NULL };

		CHECK_EQ(parse(&a, err, v), -1);
		CHECK_STR_HAS(err, "--rxq");
	}
	{
		const char *v[] = { "--ctl", "/tmp/x", "--stats", "/s", "--port", "nodev", NULL };

		CHECK_EQ(parse(&a, err, v), -1);
		CHECK_STR_HAS(err, "NAME=DEVSTR");
	}
	{
		const char *v[] = { "--ctl", "/tmp/x", "--stats", "/s", "--port", "p0=net_ring0",
				    "--port", "p0=net_ring1", NULL };

		CHECK_EQ(parse(&a, err, v), -1);
		CHECK_STR_HAS(err, "duplicate");
	}
	{
		const char *v[] = { "--ctl", "/tmp/x", "--stats", "/s", "--port-rxq", "p9=2", NULL };

		CHECK_EQ(parse(&a, err, v), -1);
		CHECK_STR_HAS(err, "p9");
	}
	{
		const char *v[] = { "--ctl", "/tmp/x", "--stats", "/s", "--frobnicate", NULL };

		CHECK_EQ(parse(&a, err, v), -1);
		CHECK_STR_HAS(err, "--frobnicate");
	}
	{
		const char *v[] = { "--ctl", "/tmp/x", "--stats", "/s", "--burst", NULL };

		CHECK_EQ(parse(&a, err, v), -1);
		CHECK_STR_HAS(err, "--burst");
	}
	{
		const char *v[] = { "--ctl", "/tmp/x", "--stats", "/s", "stray", NULL };

		CHECK_EQ(parse(&a, err, v), -1);
		CHECK_STR_HAS(err, "stray");
	}
	{
		/* --port-mac may come before its --port */
		const char *v[] = { "--ctl", "/tmp/x", "--stats", "/s", "--port-mac", "p1=02:AB:cd:00:00:1f",
				    "--port", "p0=net_ring0", "--port", "p1=net_ring1", NULL };

		CHECK_EQ(parse(&a, err, v), 0);
		CHECK_EQ(a.ports[0].has_mac, 0);
		CHECK_EQ(a.ports[1].has_mac, 1);
		CHECK_EQ(a.ports[1].mac[0], 0x02);
		CHECK_EQ(a.ports[1].mac[1], 0xab);
		CHECK_EQ(a.ports[1].mac[5], 0x1f);
	}
	{
		const char *bad[] = { "p0=02:00:00:00:00", "p0=02:00:00:00:00:0g", "p0=02:00:00:00:00:000",
				      "p0=01:00:00:00:00:01", "p0", NULL };
		unsigned i;

		for (i = 0; bad[i] != NULL; i++) {
			const char *v[] = { "--ctl", "/tmp/x", "--stats", "/s", "--port", "p0=net_ring0",
					    "--port-mac", bad[i], NULL };

			CHECK_EQ(parse(&a, err, v), -1);
			CHECK_STR_HAS(err, "--port-mac");
		}
	}
	{
		const char *v[] = { "--ctl", "/tmp/x", "--stats", "/s", "--port-mac", "p9=02:00:00:00:00:01", NULL };

		CHECK_EQ(parse(&a, err, v), -1);
		CHECK_STR_HAS(err, "p9");
	}
	return lrt_finish("test_args");
}
