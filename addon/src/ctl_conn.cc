/* SPDX-License-Identifier: BSD-3-Clause */
#include "ctl_conn.h"

#include <cerrno>
#include <cstring>
#include <ctime>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace lr {

namespace {

int64_t NowNs()
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

/** Waits for @p events on @p fd until @p deadline_ns; 0, ETIMEDOUT or errno. */
int WaitFd(int fd, short events, int64_t deadline_ns)
{
	for (;;) {
		int64_t left = deadline_ns - NowNs();
		if (left <= 0)
			return ETIMEDOUT;
		struct pollfd pfd = {fd, events, 0};
		int ms = int((left + 999999) / 1000000);
		int n = poll(&pfd, 1, ms);
		if (n > 0)
			return 0; /* errors and hang-ups show in the next read/write */
		if (n < 0 && errno != EINTR)
			return errno;
	}
}

} // namespace

Status CtlConn::Lost(const std::string &what, int err)
{
	Close();
	std::string msg = "dataplane connection: " + what;
	if (err != 0)
		msg += std::string(": ") + strerror(err);
	return Status::Error(kUnavailable, msg);
}

Status CtlConn::Connect(const std::string &path, int timeout_ms)
{
	Close();
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (path.empty() || path.size() >= sizeof(sa.sun_path) || path.find('\0') != std::string::npos)
		return Status::Error(LR_ERR_INVALID, "control socket path is empty or longer than " +
					std::to_string(sizeof(sa.sun_path) - 1) + " bytes");
	memcpy(sa.sun_path, path.data(), path.size());
	timeout_ms_ = timeout_ms > 0 ? timeout_ms : 1;

	int64_t deadline = NowNs() + int64_t(timeout_ms_) * 1000000;
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return Lost("socket", errno);
		if (connect(fd, reinterpret_cast<struct sockaddr *>(&sa), sizeof(sa)) == 0) {
			std::lock_guard<std::mutex> lock(mu_);
			fd_ = fd;
			return Status();
		}
		int err = errno;
		close(fd);
		/* Not listening yet (starting) or backlog full: try again until the deadline. */
		bool retry = err == ENOENT || err == ECONNREFUSED || err == EAGAIN || err == EINTR;
		if (!retry || NowNs() + 20000000 > deadline)
			return Lost("connect " + path, err);
		struct timespec pause = {0, 20000000};
		nanosleep(&pause, nullptr);
	}
}

Status CtlConn::SendAll(int fd, const uint8_t *p, size_t n, int64_t deadline_ns)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			n -= size_t(w);
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int err = WaitFd(fd, POLLOUT, deadline_ns);
			if (err != 0)
				return Lost(err == ETIMEDOUT ? "send timed out" : "send", err == ETIMEDOUT ? 0 : err);
			continue;
		}
		return Lost("send", w < 0 ? errno : 0);
	}
	return Status();
}

Status CtlConn::RecvAll(int fd, uint8_t *p, size_t n, int64_t deadline_ns)
{
	while (n > 0) {
		ssize_t r = recv(fd, p, n, 0);
		if (r > 0) {
			p += r;
			n -= size_t(r);
			continue;
		}
		if (r == 0)
			return Lost("closed by the dataplane", 0);
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			int err = WaitFd(fd, POLLIN, deadline_ns);
			if (err != 0)
				return Lost(err == ETIMEDOUT ? "no reply within " + std::to_string(timeout_ms_) + " ms"
							     : "recv",
					    err == ETIMEDOUT ? 0 : err);
			continue;
		}
		return Lost("recv", errno);
	}
	return Status();
}

Status CtlConn::Transact(std::vector<uint8_t> &msg, uint16_t type, uint32_t count,
			 std::vector<uint8_t> &body, uint32_t &rep_count)
{
	int fd;
	{
		std::lock_guard<std::mutex> lock(mu_);
		fd = fd_;
	}
	if (fd < 0)
		return Status::Error(kUnavailable, "not connected to the dataplane");
	if (msg.size() < sizeof(lr_ctl_hdr) || msg.size() > LR_CTL_MAX_MSG)
		return Status::Error(LR_ERR_NO_SPACE, "request of " + std::to_string(msg.size()) +
					" bytes exceeds the protocol's message limit");

	lr_ctl_hdr hdr;
	hdr.magic = LR_CTL_MAGIC;
	hdr.version = LR_CTL_VERSION;
	hdr.type = type;
	hdr.seq = ++seq_;
	hdr.len = uint32_t(msg.size());
	hdr.count = count;
	hdr.flags = 0;
	memcpy(msg.data(), &hdr, sizeof(hdr));

	int64_t deadline = NowNs() + int64_t(timeout_ms_) * 1000000;
	Status st = SendAll(fd, msg.data(), msg.size(), deadline);
	if (!st.ok())
		return st;

	lr_ctl_hdr rep;
	st = RecvAll(fd, reinterpret_cast<uint8_t *>(&rep), sizeof(rep), deadline);
	if (!st.ok())
		return st;
	if (rep.magic != LR_CTL_MAGIC)
		return Lost("reply with a bad magic (not a linerate dataplane?)", 0);
	if (rep.version != LR_CTL_VERSION) {
		Close();
		return Status::Error(LR_ERR_PRECONDITION, "dataplane speaks control protocol version " +
								  std::to_string(rep.version) + ", the addon " +
								  std::to_string(LR_CTL_VERSION));
	}
	if (rep.type != (type | LR_CTL_REPLY) || rep.seq != hdr.seq)
		return Lost("reply does not match the request (type " + std::to_string(rep.type) +
				    ", seq " + std::to_string(rep.seq) + ")",
			    0);
	if (rep.len < sizeof(rep) + sizeof(lr_ctl_status) || rep.len > LR_CTL_MAX_MSG)
		return Lost("reply length " + std::to_string(rep.len) + " out of range", 0);

	lr_ctl_status status;
	st = RecvAll(fd, reinterpret_cast<uint8_t *>(&status), sizeof(status), deadline);
	if (!st.ok())
		return st;
	body.resize(rep.len - sizeof(rep) - sizeof(status));
	st = RecvAll(fd, body.data(), body.size(), deadline);
	if (!st.ok())
		return st;
	rep_count = rep.count;

	if (status.code != LR_OK) {
		status.msg[LR_CTL_MSG_LEN - 1] = '\0';
		return Status::Error(status.code, status.msg, status.index);
	}
	return Status();
}

void CtlConn::Shutdown()
{
	std::lock_guard<std::mutex> lock(mu_);
	if (fd_ >= 0)
		shutdown(fd_, SHUT_RDWR);
}

void CtlConn::Close()
{
	std::lock_guard<std::mutex> lock(mu_);
	if (fd_ >= 0) {
		close(fd_);
		fd_ = -1;
	}
}

bool CtlConn::IsOpen()
{
	std::lock_guard<std::mutex> lock(mu_);
	return fd_ >= 0;
}

} // namespace lr
