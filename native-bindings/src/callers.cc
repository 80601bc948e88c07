// System calls Node cannot make, for naming the caller of a connection: a netlink request/reply exchange
// (sock_diag, ctnetlink — the messages are built and parsed in TypeScript) and the search of /proc/*/fd for the
// process holding a socket, on libuv's thread pool so the packet path never waits; and one sock_diag lookup on
// the calling thread, answered by the kernel inside the send, to catch a client's socket at its SYN.
#include <napi.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <linux/netlink.h>
#include <string>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace {

constexpr size_t kMaxReplyBytes = 1 << 20;   // one exact lookup answers in a few hundred bytes
constexpr size_t kMaxRequestBytes = 4096;
constexpr int kReplyTimeoutMs = 1000;
constexpr int kMaxFdsPerProcess = 65536;

// One request, the whole answer; false with errno set on failure.
bool Exchange(int protocol, const std::vector<uint8_t>& request, std::vector<uint8_t>& reply, const char** failed) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
  if (fd < 0) return *failed = "socket(AF_NETLINK)", false;
  struct timeval timeout = {kReplyTimeoutMs / 1000, (kReplyTimeoutMs % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  struct sockaddr_nl kernel;
  std::memset(&kernel, 0, sizeof kernel);
  kernel.nl_family = AF_NETLINK;
  if (sendto(fd, request.data(), request.size(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) {
    int err = errno;
    close(fd);
    errno = err;
    return *failed = "sendto(netlink)", false;
  }
  std::vector<uint8_t> buffer(65536);
  bool complete = false;
  while (!complete && reply.size() < kMaxReplyBytes) {
    ssize_t n = recv(fd, buffer.data(), buffer.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd);
      errno = err;
      return *failed = "recv(netlink)", false;
    }
    if (n == 0) break;
    reply.insert(reply.end(), buffer.begin(), buffer.begin() + n);
    // Walk the messages only to know when the answer ends; their meaning is decoded in TypeScript.
    size_t offset = 0;
    while (offset + sizeof(nlmsghdr) <= static_cast<size_t>(n)) {
      const auto* header = reinterpret_cast<const nlmsghdr*>(buffer.data() + offset);
      if (header->nlmsg_len < sizeof(nlmsghdr)) break;
      if (!(header->nlmsg_flags & NLM_F_MULTI) || header->nlmsg_type == NLMSG_DONE || header->nlmsg_type == NLMSG_ERROR) {
        complete = true;
      }
      offset += NLMSG_ALIGN(header->nlmsg_len);
    }
  }
  close(fd);
  return true;
}

// The pids holding the wanted inodes: likely pids first, then the newest processes. A socket found by sock_diag
// lives in our network namespace and is held, nearly always, by a process of that namespace: those are searched
// first, the others only after them (a process may hold a socket of another namespace, but rarely).
// The likely pids (recent owners) are searched before /proc is even listed: a client opening many connections
// is found in its own fd table, without a readdir of /proc and a readlink per process to sort them.
// `stillOpen` is asked every kRecheckEvery processes: a socket closed meanwhile has no owner left to find, and a
// search that cannot succeed would otherwise read every process's fds.
constexpr int kRecheckEvery = 16;

// Reads one process's fd table; moves each wanted inode it holds from `wanted` to `found`.
void SearchProcess(int pid, std::unordered_set<uint64_t>& wanted, std::vector<std::pair<uint64_t, int>>& found) {
  char path[320];  // "/proc/PID/fd/" + a directory entry of up to 255 bytes
  char target[64];
  std::snprintf(path, sizeof path, "/proc/%d/fd", pid);
  DIR* fds = opendir(path);
  if (fds == nullptr) return;  // exited, or a kernel thread
  int seen = 0;
  while (dirent* fdEntry = readdir(fds)) {
    if (fdEntry->d_name[0] == '.' || ++seen > kMaxFdsPerProcess) continue;
    std::snprintf(path, sizeof path, "/proc/%d/fd/%s", pid, fdEntry->d_name);
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n <= 8 || std::strncmp(target, "socket:[", 8) != 0) continue;
    target[n] = '\0';
    uint64_t inode = std::strtoull(target + 8, nullptr, 10);
    if (wanted.erase(inode) > 0) found.emplace_back(inode, pid);
  }
  closedir(fds);
}

template <typename StillOpen>
std::vector<std::pair<uint64_t, int>> SearchOwners(std::unordered_set<uint64_t> wanted, int maxProcesses, const std::vector<int>& likelyPids, StillOpen stillOpen) {
  std::vector<std::pair<uint64_t, int>> found;
  int searched = 0;
  for (int pid : likelyPids) {
    if (wanted.empty() || searched >= maxProcesses) return found;
    searched += 1;
    SearchProcess(pid, wanted, found);
  }
  if (wanted.empty()) return found;
  std::vector<int> pids;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return found;
  while (dirent* entry = readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (end != entry->d_name && *end == '\0' && pid > 0 &&
        std::find(likelyPids.begin(), likelyPids.end(), static_cast<int>(pid)) == likelyPids.end()) {
      pids.push_back(static_cast<int>(pid));
    }
  }
  closedir(proc);
  std::sort(pids.begin(), pids.end(), [](int a, int b) { return a > b; });
  char ownNetns[64] = {0};
  readlink("/proc/thread-self/ns/net", ownNetns, sizeof ownNetns - 1);
  std::stable_partition(pids.begin(), pids.end(), [&ownNetns](int pid) {
    char path[64];
    char netns[64] = {0};
    std::snprintf(path, sizeof path, "/proc/%d/ns/net", pid);
    return readlink(path, netns, sizeof netns - 1) > 0 && std::strcmp(netns, ownNetns) == 0;
  });
  for (int pid : pids) {
    if (wanted.empty() || searched >= maxProcesses) break;
    if (++searched % kRecheckEvery == 0 && !stillOpen()) break;
    SearchProcess(pid, wanted, found);
  }
  return found;
}

void Reject(Napi::Env env, Napi::Promise::Deferred& deferred, const std::string& message, int err) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("errno", Napi::Number::New(env, err));
  deferred.Reject(error.Value());
}

// netlinkExchange(protocol, request) -> Promise<Buffer>: sends one request, returns every reply byte until the
// kernel's answer is complete (a non-multipart message, NLMSG_DONE or NLMSG_ERROR).
class NetlinkExchange : public Napi::AsyncWorker {
 public:
  NetlinkExchange(Napi::Env env, int protocol, std::vector<uint8_t> request)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), protocol_(protocol), request_(std::move(request)) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    const char* failed = nullptr;
    if (!Exchange(protocol_, request_, reply_, &failed)) Fail(failed);
  }

  void OnOK() override {
    deferred_.Resolve(Napi::Buffer<uint8_t>::Copy(Env(), reply_.data(), reply_.size()));
  }

  void OnError(const Napi::Error& error) override {
    Napi::Env env = Env();
    Reject(env, deferred_, error.Message(), errno_);
  }

 private:
  void Fail(const char* what) {
    errno_ = errno;
    SetError(std::string(what) + ": " + std::strerror(errno_));
  }

  Napi::Promise::Deferred deferred_;
  int protocol_;
  std::vector<uint8_t> request_;
  std::vector<uint8_t> reply_;
  int errno_ = 0;
};

Napi::Value NetlinkExchangeFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsBuffer()) {
    Napi::TypeError::New(env, "netlinkExchange(protocol: number, request: Buffer)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto request = info[1].As<Napi::Buffer<uint8_t>>();
  if (request.Length() < sizeof(nlmsghdr) || request.Length() > kMaxRequestBytes) {
    Napi::RangeError::New(env, "netlink request must be a whole message of at most 4096 bytes").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto* worker = new NetlinkExchange(env, info[0].As<Napi::Number>().Int32Value(),
                                     std::vector<uint8_t>(request.Data(), request.Data() + request.Length()));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

std::string ReadSmall(int pid, const char* name) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/%s", pid, name);
  FILE* file = std::fopen(path, "re");
  if (file == nullptr) return {};
  std::string text(8192, '\0');
  size_t n = std::fread(text.data(), 1, text.size(), file);
  std::fclose(file);
  text.resize(n);
  return text;
}

std::string ReadLink(int pid, const char* name) {
  char path[64];
  char target[4096];
  std::snprintf(path, sizeof path, "/proc/%d/%s", pid, name);
  ssize_t n = readlink(path, target, sizeof target - 1);
  return n > 0 ? std::string(target, static_cast<size_t>(n)) : std::string();
}

// What /proc says about one process, raw: files (comm, cmdline, cgroup, status) and links (exe, netns).
struct ProcessFiles {
  std::vector<std::pair<std::string, std::string>> files;
  std::vector<std::pair<std::string, std::string>> links;

  void Read(int pid) {
    const char* names[] = {"comm", "cmdline", "cgroup", "status"};
    for (const char* name : names) files.emplace_back(name, ReadSmall(pid, name));
    links.emplace_back("exe", ReadLink(pid, "exe"));
    links.emplace_back("netns", ReadLink(pid, "ns/net"));
  }

  Napi::Object ToObject(Napi::Env env) const {
    Napi::Object object = Napi::Object::New(env);
    for (auto& [name, bytes] : files) {
      if (!bytes.empty()) object.Set(name, Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
    }
    for (auto& [name, text] : links) {
      if (!text.empty()) object.Set(name, Napi::String::New(env, text));
    }
    return object;
  }
};

// readProcessFiles(pid) -> Promise<files>: one process's /proc files on the thread pool (a caller named by the
// connect hook); the object is empty of a file the process no longer has.
class ProcessFilesReader : public Napi::AsyncWorker {
 public:
  ProcessFilesReader(Napi::Env env, int pid) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), pid_(pid) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override { files_.Read(pid_); }
  void OnOK() override { deferred_.Resolve(files_.ToObject(Env())); }

 private:
  Napi::Promise::Deferred deferred_;
  int pid_;
  ProcessFiles files_;
};

Napi::Value ReadProcessFilesFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber() || info[0].As<Napi::Number>().Int32Value() <= 0) {
    Napi::TypeError::New(env, "readProcessFiles(pid: number > 0)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto* worker = new ProcessFilesReader(env, info[0].As<Napi::Number>().Int32Value());
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// findSocketOwners(sockets, maxProcesses, likelyPids) -> Promise<{ pid?, files? }[]>: the search for the processes
// holding some sockets (abandoned once none is open any more) and those processes' /proc files, in one thread-pool
// job — a short-lived client (curl) may exit a millisecond after its answer, so nothing waits for the JavaScript
// thread between the steps. Sockets wait for the search in batches: one pass over a client's fd table names all
// the connections it opened meanwhile. The bytes are returned raw and parsed in TypeScript.
class SocketAttribution : public Napi::AsyncWorker {
 public:
  struct Wanted {
    uint64_t inode;
    std::vector<uint8_t> sockDiagRequest;
  };

  SocketAttribution(Napi::Env env, std::vector<Wanted> wanted, int maxProcesses, std::vector<int> likelyPids)
      : Napi::AsyncWorker(env),
        deferred_(Napi::Promise::Deferred::New(env)),
        wanted_(std::move(wanted)),
        maxProcesses_(maxProcesses),
        likelyPids_(std::move(likelyPids)) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    // The same sock_diag lookups again: one still answered with its inode means a client still holds its socket.
    auto stillOpen = [this]() {
      for (const Wanted& wanted : wanted_) {
        std::vector<uint8_t> reply;
        const char* failed = nullptr;
        if (!Exchange(4 /* NETLINK_SOCK_DIAG */, wanted.sockDiagRequest, reply, &failed)) return true;  // cannot tell: go on
        constexpr size_t kInodeOffset = sizeof(nlmsghdr) + 68;  // inet_diag_msg.idiag_inode
        if (reply.size() < kInodeOffset + 4 || reinterpret_cast<const nlmsghdr*>(reply.data())->nlmsg_type != 20) continue;
        uint32_t inode = 0;
        std::memcpy(&inode, reply.data() + kInodeOffset, 4);
        if (inode == wanted.inode) return true;
      }
      return false;
    };
    std::unordered_set<uint64_t> inodes;
    for (const Wanted& wanted : wanted_) inodes.insert(wanted.inode);
    for (auto& [inode, pid] : SearchOwners(inodes, maxProcesses_, likelyPids_, stillOpen)) {
      pidByInode_[inode] = pid;
      if (owners_.count(pid) > 0) continue;  // one process holding several of the sockets: its files read once
      owners_[pid].Read(pid);
    }
  }

  // One { pid?, files? } per wanted inode, in the order asked; sockets sharing an owner share its files object.
  void OnOK() override {
    Napi::Env env = Env();
    std::unordered_map<int, Napi::Object> filesByPid;
    for (auto& [pid, owner] : owners_) filesByPid.emplace(pid, owner.ToObject(env));
    Napi::Array results = Napi::Array::New(env, wanted_.size());
    for (size_t i = 0; i < wanted_.size(); i++) {
      Napi::Object result = Napi::Object::New(env);
      auto found = pidByInode_.find(wanted_[i].inode);
      if (found != pidByInode_.end()) {
        result.Set("pid", Napi::Number::New(env, found->second));
        result.Set("files", filesByPid.at(found->second));
      }
      results.Set(static_cast<uint32_t>(i), result);
    }
    deferred_.Resolve(results);
  }

  void OnError(const Napi::Error& error) override {
    Napi::Env env = Env();
    Reject(env, deferred_, error.Message(), 0);
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::vector<Wanted> wanted_;
  int maxProcesses_;
  std::vector<int> likelyPids_;
  std::unordered_map<uint64_t, int> pidByInode_;
  std::unordered_map<int, ProcessFiles> owners_;
};

std::vector<int> PidList(const Napi::Value& value) {
  std::vector<int> pids;
  if (!value.IsArray()) return pids;
  Napi::Array list = value.As<Napi::Array>();
  for (uint32_t i = 0; i < list.Length() && i < 64; i++) {
    Napi::Value item = list.Get(i);
    if (item.IsNumber()) pids.push_back(item.As<Napi::Number>().Int32Value());
  }
  return pids;
}

constexpr uint32_t kMaxSocketsPerSearch = 256;

// findSocketOwners(sockets: { inode, request }[], maxProcesses, likelyPids?) -> Promise<{ pid?, files? }[]>
Napi::Value FindSocketOwnersFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* usage = "findSocketOwners(sockets: { inode: number, request: Buffer }[] (1..256), maxProcesses: number, likelyPids?: number[])";
  if (info.Length() < 2 || !info[0].IsArray() || !info[1].IsNumber()) {
    Napi::TypeError::New(env, usage).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Array sockets = info[0].As<Napi::Array>();
  if (sockets.Length() == 0 || sockets.Length() > kMaxSocketsPerSearch) {
    Napi::RangeError::New(env, usage).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::vector<SocketAttribution::Wanted> wanted;
  for (uint32_t i = 0; i < sockets.Length(); i++) {
    Napi::Value item = sockets.Get(i);
    if (!item.IsObject()) {
      Napi::TypeError::New(env, usage).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Value inode = item.As<Napi::Object>().Get("inode");
    Napi::Value request = item.As<Napi::Object>().Get("request");
    if (!inode.IsNumber() || !request.IsBuffer()) {
      Napi::TypeError::New(env, usage).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    auto bytes = request.As<Napi::Buffer<uint8_t>>();
    if (bytes.Length() < sizeof(nlmsghdr) || bytes.Length() > kMaxRequestBytes) {
      Napi::RangeError::New(env, "netlink request must be a whole message of at most 4096 bytes").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    wanted.push_back({static_cast<uint64_t>(inode.As<Napi::Number>().Int64Value()), std::vector<uint8_t>(bytes.Data(), bytes.Data() + bytes.Length())});
  }
  auto* worker = new SocketAttribution(env, std::move(wanted), info[1].As<Napi::Number>().Int32Value(), PidList(info.Length() > 2 ? info[2] : env.Undefined()));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// sockDiagNow(request) -> Buffer: one sock_diag exchange on the calling thread, through one socket kept open.
// Called at a client's SYN: its socket surely exists then (the client waits for our SYN-ACK), and the kernel
// answers inside the send, so the receive does not wait (MSG_DONTWAIT; an empty Buffer if it had to).
Napi::Value SockDiagNowFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  static int fd = -1;
  if (info.Length() < 1 || !info[0].IsBuffer()) {
    Napi::TypeError::New(env, "sockDiagNow(request: Buffer)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto request = info[0].As<Napi::Buffer<uint8_t>>();
  static bool answerMayBeLate = false;  // the last exchange found no answer: it may still arrive before ours
  if (fd < 0) fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 4 /* NETLINK_SOCK_DIAG */);
  if (fd < 0 || request.Length() < sizeof(nlmsghdr) || request.Length() > kMaxRequestBytes) return Napi::Buffer<uint8_t>::New(env, 0);
  struct sockaddr_nl kernel;
  std::memset(&kernel, 0, sizeof kernel);
  kernel.nl_family = AF_NETLINK;
  uint8_t reply[8192];
  if (answerMayBeLate) {
    while (recv(fd, reply, sizeof reply, MSG_DONTWAIT) > 0) {
    }
    answerMayBeLate = false;
  }
  if (sendto(fd, request.Data(), request.Length(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) return Napi::Buffer<uint8_t>::New(env, 0);
  ssize_t n = recv(fd, reply, sizeof reply, MSG_DONTWAIT);
  if (n <= 0) answerMayBeLate = true;
  return Napi::Buffer<uint8_t>::Copy(env, reply, n > 0 ? static_cast<size_t>(n) : 0);
}

}  // namespace

void InitCallers(Napi::Env env, Napi::Object exports) {
  exports.Set("netlinkExchange", Napi::Function::New(env, NetlinkExchangeFn));
  exports.Set("findSocketOwners", Napi::Function::New(env, FindSocketOwnersFn));
  exports.Set("sockDiagNow", Napi::Function::New(env, SockDiagNowFn));
  exports.Set("readProcessFiles", Napi::Function::New(env, ReadProcessFilesFn));
}
