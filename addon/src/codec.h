/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Conversions between JS values and the control protocol's C structs:
 * address/prefix/MAC strings, and batch entries / dump entries. Runs on the
 * JS thread; the per-entry path uses raw Node-API calls with keys created
 * once per batch and fixed-size stack buffers (no allocation per entry).
 */
#ifndef LR_ADDON_CODEC_H
#define LR_ADDON_CODEC_H

#include <cstdint>
#include <string>

#include <node_api.h>

#include "lr_ctl.h"

namespace lr {

/** Bad input from JS: rejected with this gRPC code and entry index. */
struct InputError {
	int code;
	int64_t index; /**< -1 = not about one entry */
	std::string msg;
};

/* String <-> bytes; addresses are network byte order, IPv4 in bytes 0..3. */
bool ParseAddr(const char *s, uint8_t out[16], uint8_t *family);
bool ParsePrefix(const char *s, uint8_t out[16], uint8_t *family, uint8_t *plen);
bool ParseMac(const char *s, uint8_t out[6]);
/** @p buf must hold 46 bytes (INET6_ADDRSTRLEN). */
void FormatAddr(uint8_t family, const uint8_t addr[16], char *buf);
/** @p buf must hold 18 bytes. */
void FormatMac(const uint8_t mac[6], char *buf);

/**
 * One conversion session on the JS thread: holds the property keys so they
 * are created once per call, not once per entry.
 */
class Codec {
public:
	explicit Codec(napi_env env);

	/**
	 * Makes the property keys once per addon instance, as internalized
	 * strings: V8 then finds properties by pointer instead of hashing the
	 * key on every lookup. Called from the module's init.
	 */
	static void InitKeys(napi_env env);

	/** Entry @p i of a batch array (an index getter that throws is bad input). */
	napi_value Element(napi_value array, uint32_t i);

	/* JS -> C. Throw InputError (code 3, the entry index) on bad input. */
	void ToRoute(napi_value v, uint32_t i, lr_route *out);
	void ToAddr(napi_value v, uint32_t i, lr_addr *out);
	void ToNeigh(napi_value v, uint32_t i, lr_neigh *out);
	void ToPortSet(napi_value v, uint32_t i, lr_port_set *out);
	void ToFlow(napi_value v, uint32_t i, lr_flow *out);
	void ToQueueMove(napi_value v, uint32_t i, lr_queue_move *out);
	void ToPortQueues(napi_value v, uint32_t i, lr_port_queues *out);

	/* C -> JS (dump replies, port list, hello). */
	napi_value FromRoute(const lr_route &r);
	napi_value FromAddr(const lr_addr &a);
	napi_value FromNeigh(const lr_neigh &n);
	napi_value FromPortInfo(const lr_port_info &p);
	napi_value FromHello(const lr_ctl_hello_rep &h);
	napi_value FromFlow(const lr_flow &f);
	napi_value FromFlowStats(const lr_flow_stats &s);
	napi_value FromQueueEntry(const lr_queue_entry &e);

private:
	enum Key {
		K_OP, K_PREFIX, K_NEXTHOPS, K_CONNECTED, K_PORT_ID, K_VIA, K_WEIGHT,
		K_ADDRESS, K_PREFIX_LEN, K_MAC, K_STATE, K_AGE, K_MTU, K_ADMIN_UP,
		/* flows */
		K_TABLE, K_ID, K_PRIORITY, K_FAMILY, K_ACTION, K_IN_PORT, K_PROTO, K_SRC, K_DST,
		K_SPORT_LO, K_SPORT_HI, K_DPORT_LO, K_DPORT_HI, K_DSCP, K_DSCP_MASK, K_TCP_FLAGS,
		K_TCP_FLAGS_MASK, K_OUT_PORT, K_MIRROR_PORT, K_SET_DSCP, K_PACKETS, K_BYTES,
		K_METER, K_CIR, K_CBS, K_PIR, K_PBS, K_MODE, K_YELLOW_DSCP, K_RED_DSCP,
		/* queue map */
		K_QUEUE, K_WORKER, K_RX_QUEUES, K_TX_QUEUES,
		K_MAX
	};

	napi_value Get(napi_value obj, Key k, uint32_t i);
	/** Copies a string property into @p buf; false if undefined and optional. */
	bool GetString(napi_value obj, Key k, uint32_t i, char *buf, size_t cap, bool optional);
	/** Integer property in [lo, hi]; @p def if undefined and optional. */
	uint32_t GetUint(napi_value obj, Key k, uint32_t i, uint32_t lo, uint32_t hi, bool optional,
			 uint32_t def);
	uint8_t GetOp(napi_value obj, uint32_t i);
	/** Integer property in [lo, hi] up to 2^53 (rates in bytes per second). */
	uint64_t GetU64(napi_value obj, Key k, uint32_t i, uint64_t lo, uint64_t hi);
	void Set(napi_value obj, Key k, napi_value v);
	void SetUint(napi_value obj, Key k, uint32_t v);
	void SetStr(napi_value obj, Key k, const char *s);
	void SetBool(napi_value obj, Key k, bool b);
	void SetBig(napi_value obj, Key k, uint64_t n);
	/** Optional prefix property into addr/plen (absent: /0); its family must be @p family. */
	void GetFlowPrefix(napi_value obj, Key k, uint32_t i, uint8_t family, uint8_t *addr, uint8_t *plen);
	napi_value Str(const char *s);
	napi_value Obj();
	void ClearException();
	[[noreturn]] void Fail(uint32_t i, const std::string &msg);
	void Ok(napi_status s);

	napi_env env_;
	napi_value keys_[K_MAX];
	napi_value entry_ = nullptr; /**< batch entry being converted, for error messages */
};

} // namespace lr

#endif /* LR_ADDON_CODEC_H */
