// The connect hook: a tiny eBPF program on the cgroup v2 root that runs in every TCP/UDP connect() on the host
// (any network namespace) and records, by the socket's cookie, the process that called it (pid and comm) in a
// bounded LRU map. A connection then names its caller with one map lookup by the cookie sock_diag reports at the
// SYN, instead of a search through every candidate process's fd table (which cost a new-connection flow several
// times its own CPU). The program always allows the connect; it is attached through a bpf_link owned by this
// process, so the kernel detaches it when the process exits, however it exits. Written as raw instructions so
// nothing needs a BPF compiler at install time.
#include <napi.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace {

/** Connects remembered at once; a lookup comes within milliseconds of its connect, so old entries can go first. */
constexpr uint32_t kMaxConnects = 16384;

struct ConnectRecord {
  uint64_t pidTgid;
  char comm[16];
};

int mapFd = -1;
int programFds[2] = {-1, -1};
int linkFds[2] = {-1, -1};

long Bpf(int command, union bpf_attr* attr) { return syscall(__NR_bpf, command, attr, sizeof *attr); }

bpf_insn Insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn insn;
  std::memset(&insn, 0, sizeof insn);
  insn.code = code;
  insn.dst_reg = dst;
  insn.src_reg = src;
  insn.off = off;
  insn.imm = imm;
  return insn;
}

void CloseAll() {
  for (int* fd : {&linkFds[0], &linkFds[1], &programFds[0], &programFds[1], &mapFd}) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
}

std::string Failure(const char* step) { return std::string(step) + ": " + std::strerror(errno); }

// key (the socket cookie) at fp-8; the value { pid_tgid, comm[16] } at fp-32. With `withComm` false the comm
// stays zero: the kernel lets bpf_get_current_comm only a loader that also has CAP_PERFMON (or CAP_SYS_ADMIN),
// and a service holding just CAP_BPF and CAP_NET_ADMIN still gets the pids.
int LoadProgram(bpf_attach_type attachType, bool withComm, std::string& error) {
  const bpf_insn getComm[] = {
      Insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_10, 0, 0),
      Insn(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_1, 0, 0, -24),
      Insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, 16),
      Insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_current_comm),
  };
  const bpf_insn zeroComm[] = {
      Insn(BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, -24, 0),
      Insn(BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, -16, 0),
      Insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),  // padding: both variants are 4 instructions
      Insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
  };
  const bpf_insn* comm = withComm ? getComm : zeroComm;
  const bpf_insn program[] = {
      Insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_socket_cookie),  // r1 is the context
      Insn(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_10, BPF_REG_0, -8, 0),
      Insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_current_pid_tgid),
      Insn(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_10, BPF_REG_0, -32, 0),
      comm[0],
      comm[1],
      comm[2],
      comm[3],
      Insn(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, mapFd),
      Insn(0, 0, 0, 0, 0),
      Insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0),
      Insn(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -8),
      Insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_10, 0, 0),
      Insn(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_3, 0, 0, -32),
      Insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_4, 0, 0, BPF_ANY),
      Insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_update_elem),
      Insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1),  // 1: let the connect proceed
      Insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
  };
  static char verifierLog[4096];
  verifierLog[0] = '\0';
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_SOCK_ADDR;
  attr.expected_attach_type = attachType;
  attr.insns = reinterpret_cast<uint64_t>(program);
  attr.insn_cnt = sizeof program / sizeof program[0];
  attr.license = reinterpret_cast<uint64_t>("Dual MIT/GPL");
  attr.log_buf = reinterpret_cast<uint64_t>(verifierLog);
  attr.log_size = sizeof verifierLog;
  attr.log_level = 1;
  // The verifier gives up with EAGAIN when a signal is pending (a CPU profiler's SIGPROF): try again, as libbpf does.
  int fd = -1;
  for (int attempt = 0; attempt < 5; attempt++) {
    fd = static_cast<int>(Bpf(BPF_PROG_LOAD, &attr));
    if (fd >= 0 || errno != EAGAIN) break;
  }
  if (fd < 0) {
    error = Failure("loading the program (BPF_PROG_LOAD)");
    std::string log(verifierLog);
    if (!log.empty()) error += " — verifier: " + log.substr(0, 300);
  }
  return fd;
}

// A connect of our own, on loopback, must come back as this process: otherwise the hook does not see our
// sockets' cookies or pids as we do (another pid namespace, a cgroup namespace whose root is not the host's).
bool SelfTest(std::string& error) {
  int probe = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (probe < 0) return error = Failure("self-test socket"), false;
  sockaddr_in loopback;
  std::memset(&loopback, 0, sizeof loopback);
  loopback.sin_family = AF_INET;
  loopback.sin_port = htons(9);  // refused or unreachable: the hook runs before either
  loopback.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  connect(probe, reinterpret_cast<sockaddr*>(&loopback), sizeof loopback);
  uint64_t cookie = 0;
  socklen_t length = sizeof cookie;
  bool haveCookie = getsockopt(probe, SOL_SOCKET, SO_COOKIE, &cookie, &length) == 0;
  close(probe);
  if (!haveCookie) return error = Failure("self-test SO_COOKIE"), false;
  ConnectRecord record;
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.map_fd = mapFd;
  attr.key = reinterpret_cast<uint64_t>(&cookie);
  attr.value = reinterpret_cast<uint64_t>(&record);
  if (Bpf(BPF_MAP_LOOKUP_ELEM, &attr) != 0) {
    error = "self-test: the hook did not see a connect of this process (is the cgroup the root of this host's?)";
    return false;
  }
  if (static_cast<int>(record.pidTgid >> 32) != getpid()) {
    error = "self-test: the hook saw pid " + std::to_string(record.pidTgid >> 32) + " for this process, pid " +
            std::to_string(getpid()) + " here (another pid namespace)";
    return false;
  }
  return true;
}

// connectHookStart(cgroupDir) -> { records: 'pid-and-comm' | 'pid' }; throws an Error naming the step that failed
// (nothing stays attached then).
Napi::Value ConnectHookStartFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "connectHookStart(cgroupDir: string)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (mapFd >= 0) {
    Napi::Error::New(env, "the connect hook is already attached").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string error;
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.map_type = BPF_MAP_TYPE_LRU_HASH;
  attr.key_size = sizeof(uint64_t);
  attr.value_size = sizeof(ConnectRecord);
  attr.max_entries = kMaxConnects;
  mapFd = static_cast<int>(Bpf(BPF_MAP_CREATE, &attr));
  if (mapFd < 0) error = Failure("creating the map (BPF_MAP_CREATE)");
  int cgroupFd = -1;
  if (error.empty()) {
    cgroupFd = open(info[0].As<Napi::String>().Utf8Value().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cgroupFd < 0) error = Failure("opening the cgroup directory");
  }
  const bpf_attach_type attachTypes[2] = {BPF_CGROUP_INET4_CONNECT, BPF_CGROUP_INET6_CONNECT};
  bool withComm = true;
  for (int i = 0; i < 2 && error.empty(); i++) {
    programFds[i] = LoadProgram(attachTypes[i], withComm, error);
    if (programFds[i] < 0 && withComm) {
      std::string withCommError;
      withCommError.swap(error);
      withComm = false;
      programFds[i] = LoadProgram(attachTypes[i], withComm, error);
      if (programFds[i] < 0) error = withCommError + "; without the comm: " + error;
    }
    if (!error.empty()) break;
    std::memset(&attr, 0, sizeof attr);
    attr.link_create.prog_fd = programFds[i];
    attr.link_create.target_fd = cgroupFd;
    attr.link_create.attach_type = attachTypes[i];
    linkFds[i] = static_cast<int>(Bpf(BPF_LINK_CREATE, &attr));
    if (linkFds[i] < 0) error = Failure("attaching to the cgroup (BPF_LINK_CREATE)");
  }
  if (cgroupFd >= 0) close(cgroupFd);
  if (error.empty()) SelfTest(error);
  if (!error.empty()) {
    CloseAll();
    Napi::Error::New(env, error).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object started = Napi::Object::New(env);
  started.Set("records", Napi::String::New(env, withComm ? "pid-and-comm" : "pid"));
  return started;
}

// connectHookOwner(cookie: bigint) -> { pid, comm } | undefined: who called connect() on that socket.
Napi::Value ConnectHookOwnerFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsBigInt()) {
    Napi::TypeError::New(env, "connectHookOwner(cookie: bigint)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (mapFd < 0) return env.Undefined();
  bool lossless = false;
  uint64_t cookie = info[0].As<Napi::BigInt>().Uint64Value(&lossless);
  ConnectRecord record;
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.map_fd = mapFd;
  attr.key = reinterpret_cast<uint64_t>(&cookie);
  attr.value = reinterpret_cast<uint64_t>(&record);
  if (!lossless || Bpf(BPF_MAP_LOOKUP_ELEM, &attr) != 0) return env.Undefined();
  Napi::Object owner = Napi::Object::New(env);
  owner.Set("pid", Napi::Number::New(env, static_cast<double>(record.pidTgid >> 32)));
  owner.Set("comm", Napi::String::New(env, record.comm, strnlen(record.comm, sizeof record.comm)));
  return owner;
}

Napi::Value ConnectHookStopFn(const Napi::CallbackInfo& info) {
  CloseAll();
  return info.Env().Undefined();
}

}  // namespace

void InitConnectHook(Napi::Env env, Napi::Object exports) {
  exports.Set("connectHookStart", Napi::Function::New(env, ConnectHookStartFn));
  exports.Set("connectHookOwner", Napi::Function::New(env, ConnectHookOwnerFn));
  exports.Set("connectHookStop", Napi::Function::New(env, ConnectHookStopFn));
}
