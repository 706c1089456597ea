/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Client side of the control protocol (dataplane/include/lr_ctl.h): one unix
 * stream connection, framing, one request / one reply with a deadline.
 * Plain C++ with no Node-API: it runs on libuv worker threads.
 */
#ifndef LR_ADDON_CTL_CONN_H
#define LR_ADDON_CTL_CONN_H

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "lr_ctl.h"

namespace lr {

/** gRPC code the addon uses when the connection is gone or unusable. */
constexpr int kUnavailable = 14;

/** Outcome of a request: a gRPC code (lr_status), the failing entry, why. */
struct Status {
	int code = 0;
	int64_t index = -1; /**< failing batch entry; -1 = none */
	std::string msg;

	bool ok() const { return code == 0; }
	static Status Error(int code, std::string msg, int64_t index = -1)
	{
		Status s;
		s.code = code;
		s.msg = std::move(msg);
		s.index = index;
		return s;
	}
};

/**
 * One connection. Requests are serialized by the caller (Dataplane runs one
 * at a time); Shutdown() may be called from any thread to unblock a request
 * in flight. Any transport or framing error closes the connection, so a
 * late reply can never be taken for the answer to a later request.
 */
class CtlConn {
public:
	CtlConn() = default;
	CtlConn(const CtlConn &) = delete;
	CtlConn &operator=(const CtlConn &) = delete;
	~CtlConn() { Close(); }

	/**
	 * Connects to @p path, retrying while the socket does not exist or
	 * refuses (a dataplane that is still starting) until @p timeout_ms.
	 * The same timeout then bounds every request's wait for its reply.
	 */
	Status Connect(const std::string &path, int timeout_ms);

	/**
	 * Sends @p msg, whose first sizeof(lr_ctl_hdr) bytes are reserved for
	 * the header (filled here), and reads the reply. On return @p body
	 * holds what follows the reply's lr_ctl_status and @p count its
	 * hdr.count. A non-OK status from the dataplane is returned as is and
	 * keeps the connection; transport errors close it (kUnavailable).
	 */
	Status Transact(std::vector<uint8_t> &msg, uint16_t type, uint32_t count,
			std::vector<uint8_t> &body, uint32_t &rep_count);

	/** Wakes a blocked request (it then fails); the fd stays allocated. */
	void Shutdown();
	void Close();
	bool IsOpen();

private:
	Status Lost(const std::string &what, int err);
	Status SendAll(int fd, const uint8_t *p, size_t n, int64_t deadline_ns);
	Status RecvAll(int fd, uint8_t *p, size_t n, int64_t deadline_ns);

	std::mutex mu_; /**< guards fd_ against Shutdown()/Close() from the JS thread */
	int fd_ = -1;
	uint32_t seq_ = 0;
	int timeout_ms_ = 5000;
};

} // namespace lr

#endif /* LR_ADDON_CTL_CONN_H */
