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
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cstddef>
#include <vector>

namespace {

/** Connects remembered at once; a lookup comes within milliseconds of its connect, so old entries can go first. */
constexpr uint32_t kMaxConnects = 16384;

struct ConnectRecord {
  uint64_t pidTgid;
  char comm[16];
};

constexpr int kTupleKeyBytes = 48;

// The slots: a direct-mapped table, indexed by the client's port, that the sock_ops program also writes each record
// into and this process reads through a read-only mapping of the map — a lookup with no bpf() syscall (which
// cost a flow several microseconds). A slot another connection took over (ports 1024 apart, within the moment
// between a connect and its SYN reaching imds-hop) does not match the key, and the 4-tuple map answers instead.
constexpr uint32_t kSlots = 1024;

// `sequence` is a seqlock the program takes with a compare-and-exchange (odd while it writes; a writer that finds
// it odd leaves the slot alone) and releases with an exchange; a reader that sees it odd or changed asks the map.
struct Slot {
  uint64_t sequence;
  uint8_t key[kTupleKeyBytes];
  ConnectRecord record;
};
static_assert(sizeof(Slot) == 80, "the sock_ops program writes this layout");

int mapFd = -1;       // cookie -> ConnectRecord
int tupleMapFd = -1;  // 4-tuple key -> ConnectRecord
int slotMapFd = -1;   // client port % kSlots -> Slot
int programFds[3] = {-1, -1, -1};  // connect4, connect6, sock_ops
int linkFds[3] = {-1, -1, -1};
std::string tupleProblem;  // why the 4-tuple half is not attached, when it is not
std::string slotProblem;   // why the slots are not read, when they are not
const Slot* slots = nullptr;
constexpr size_t kSlotsBytes = (sizeof(Slot) * kSlots + 4095) & ~size_t{4095};
double slotHits = 0;

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

// A program that writes the slots holds its own reference to their map: the fd is not needed to keep it.
void UnmapSlots() {
  if (slots) munmap(const_cast<Slot*>(slots), kSlotsBytes);
  slots = nullptr;
  if (slotMapFd >= 0) close(slotMapFd);
  slotMapFd = -1;
}

void CloseTuples() {
  UnmapSlots();
  for (int* fd : {&linkFds[2], &programFds[2], &tupleMapFd}) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
}

void CloseAll() {
  CloseTuples();
  for (int* fd : {&linkFds[0], &linkFds[1], &programFds[0], &programFds[1], &mapFd}) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
}

std::string Failure(const char* step) { return std::string(step) + ": " + std::strerror(errno); }

// A new map's fd, or -1 with errno set.
int CreateMap(bpf_map_type type, uint32_t keySize, uint32_t valueSize, uint32_t maxEntries, uint32_t flags = 0) {
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.map_type = type;
  attr.key_size = keySize;
  attr.value_size = valueSize;
  attr.max_entries = maxEntries;
  attr.map_flags = flags;
  return static_cast<int>(Bpf(BPF_MAP_CREATE, &attr));
}

// Creates the slots' map (an array the kernel lets this process map read-only) and maps it.
bool MapSlots() {
  slotMapFd = CreateMap(BPF_MAP_TYPE_ARRAY, sizeof(uint32_t), sizeof(Slot), kSlots, BPF_F_MMAPABLE);
  if (slotMapFd < 0) return slotProblem = Failure("creating the slots' map"), false;
  void* mapped = mmap(nullptr, kSlotsBytes, PROT_READ, MAP_SHARED, slotMapFd, 0);
  if (mapped == MAP_FAILED) return slotProblem = Failure("mapping the slots"), false;
  slots = static_cast<const Slot*>(mapped);
  return true;
}

int Load(bpf_prog_type type, bpf_attach_type attachType, const bpf_insn* program, size_t count, std::string& error) {
  static char verifierLog[65536];
  union bpf_attr attr;
  // Quietly first; only a program the verifier refuses is loaded again to have its log for the error.
  for (uint32_t logLevel : {0u, 1u}) {
    std::memset(&attr, 0, sizeof attr);
    attr.prog_type = type;
    attr.expected_attach_type = attachType;
    attr.insns = reinterpret_cast<uint64_t>(program);
    attr.insn_cnt = static_cast<uint32_t>(count);
    attr.license = reinterpret_cast<uint64_t>("Dual MIT/GPL");
    if (logLevel > 0) {
      verifierLog[0] = '\0';
      attr.log_buf = reinterpret_cast<uint64_t>(verifierLog);
      attr.log_size = sizeof verifierLog;
      attr.log_level = logLevel;
    }
    // The verifier gives up with EAGAIN when a signal is pending (a CPU profiler's SIGPROF): try again, as libbpf
    // does.
    int fd = -1;
    for (int attempt = 0; attempt < 5; attempt++) {
      fd = static_cast<int>(Bpf(BPF_PROG_LOAD, &attr));
      if (fd >= 0 || errno != EAGAIN) break;
    }
    if (fd >= 0) return fd;
    error = Failure("loading the program (BPF_PROG_LOAD)");
  }
  std::string log(verifierLog);
  if (!log.empty()) error += " — verifier: " + log.substr(log.size() > 400 ? log.size() - 400 : 0);
  return -1;
}

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
  return Load(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, attachType, program, sizeof program / sizeof program[0], error);
}

// The 4-tuple half of the hook: a sock_ops program that runs as each TCP connection sends its SYN (the local port
// is chosen by then), finds the connect record by the socket's cookie and files it again under the connection's
// 4-tuple — so imds-hop, which sees the 4-tuple in the SYN, names the caller with one lookup and no sock_diag
// exchange. The key is 48 bytes: family, local port (host order), remote port (as sock_ops gives it: network order
// in the upper half), zero, then the local and the remote address, 16 bytes each (IPv4 in the first 4).
// With `withSlots` it also copies key and record into the connection's slot (BPF_ATOMIC needs Linux 5.12).
int LoadTupleProgram(bool withSlots, std::string& error) {
  std::vector<bpf_insn> p;
  auto emit = [&p](bpf_insn insn) {
    p.push_back(insn);
    return static_cast<int>(p.size()) - 1;
  };
  auto ctx = [](int field) { return static_cast<int16_t>(field); };
  auto loadCtx = [&](uint8_t dst, size_t offset) {
    emit(Insn(BPF_LDX | BPF_MEM | BPF_W, dst, BPF_REG_6, ctx(static_cast<int>(offset)), 0));
  };
  auto storeW = [&](int16_t stackOffset, uint8_t src) { emit(Insn(BPF_STX | BPF_MEM | BPF_W, BPF_REG_10, src, stackOffset, 0)); };
  emit(Insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_1, 0, 0));
  loadCtx(BPF_REG_2, offsetof(bpf_sock_ops, op));
  int notConnect = emit(Insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, 0, BPF_SOCK_OPS_TCP_CONNECT_CB));
  emit(Insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_6, 0, 0));
  emit(Insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_socket_cookie));
  emit(Insn(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_10, BPF_REG_0, -8, 0));
  emit(Insn(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, mapFd));
  emit(Insn(0, 0, 0, 0, 0));
  emit(Insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0));
  emit(Insn(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -8));
  emit(Insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem));
  int noRecord = emit(Insn(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 0, 0));
  emit(Insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_7, BPF_REG_0, 0, 0));
  // The key at fp-56..fp-9.
  loadCtx(BPF_REG_8, offsetof(bpf_sock_ops, family));
  storeW(-56, BPF_REG_8);
  loadCtx(BPF_REG_2, offsetof(bpf_sock_ops, local_port));
  storeW(-52, BPF_REG_2);
  loadCtx(BPF_REG_2, offsetof(bpf_sock_ops, remote_port));
  storeW(-48, BPF_REG_2);
  emit(Insn(BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, -44, 0));
  int notIpv6 = emit(Insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_8, 0, 0, AF_INET6));
  for (int i = 0; i < 4; i++) {
    loadCtx(BPF_REG_2, offsetof(bpf_sock_ops, local_ip6) + 4 * i);
    storeW(static_cast<int16_t>(-40 + 4 * i), BPF_REG_2);
    loadCtx(BPF_REG_2, offsetof(bpf_sock_ops, remote_ip6) + 4 * i);
    storeW(static_cast<int16_t>(-24 + 4 * i), BPF_REG_2);
  }
  int toValue = emit(Insn(BPF_JMP | BPF_JA, 0, 0, 0, 0));
  int ipv4 = static_cast<int>(p.size());
  loadCtx(BPF_REG_2, offsetof(bpf_sock_ops, local_ip4));
  storeW(-40, BPF_REG_2);
  emit(Insn(BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, -36, 0));
  emit(Insn(BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, -32, 0));
  loadCtx(BPF_REG_2, offsetof(bpf_sock_ops, remote_ip4));
  storeW(-24, BPF_REG_2);
  emit(Insn(BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, -20, 0));
  emit(Insn(BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, -16, 0));
  int value = static_cast<int>(p.size());
  // The connect record, copied to fp-80..fp-57, filed under the key.
  for (int i = 0; i < 3; i++) {
    emit(Insn(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_2, BPF_REG_7, static_cast<int16_t>(8 * i), 0));
    emit(Insn(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_10, BPF_REG_2, static_cast<int16_t>(-80 + 8 * i), 0));
  }
  std::vector<int> toMap;  // jumps to the 4-tuple map's update, taken when the slot is not written
  if (withSlots) {
    loadCtx(BPF_REG_2, offsetof(bpf_sock_ops, local_port));
    emit(Insn(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_2, 0, 0, static_cast<int32_t>(kSlots - 1)));
    storeW(-88, BPF_REG_2);
    emit(Insn(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, slotMapFd));
    emit(Insn(0, 0, 0, 0, 0));
    emit(Insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0));
    emit(Insn(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -88));
    emit(Insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem));
    toMap.push_back(emit(Insn(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 0, 0)));
    emit(Insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_9, BPF_REG_0, 0, 0));
    // Take the seqlock: sequence s (even) -> s + 1, or leave the slot to the writer holding it.
    emit(Insn(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_1, BPF_REG_9, 0, 0));
    toMap.push_back(emit(Insn(BPF_JMP | BPF_JSET | BPF_K, BPF_REG_1, 0, 0, 1)));
    emit(Insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_0, BPF_REG_1, 0, 0));
    emit(Insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_1, 0, 0));
    emit(Insn(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, 1));
    emit(Insn(BPF_STX | BPF_ATOMIC | BPF_DW, BPF_REG_9, BPF_REG_2, 0, BPF_CMPXCHG));
    toMap.push_back(emit(Insn(BPF_JMP | BPF_JNE | BPF_X, BPF_REG_0, BPF_REG_1, 0, 0)));
    for (int i = 0; i < 6; i++) {  // the key, fp-56..fp-9
      emit(Insn(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_2, BPF_REG_10, static_cast<int16_t>(-56 + 8 * i), 0));
      emit(Insn(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_9, BPF_REG_2, static_cast<int16_t>(offsetof(Slot, key) + 8 * i), 0));
    }
    for (int i = 0; i < 3; i++) {  // the record, fp-80..fp-57
      emit(Insn(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_2, BPF_REG_10, static_cast<int16_t>(-80 + 8 * i), 0));
      emit(Insn(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_9, BPF_REG_2, static_cast<int16_t>(offsetof(Slot, record) + 8 * i), 0));
    }
    // Release: s + 2, with the exchange's full barrier after the stores above.
    emit(Insn(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_1, 0, 0, 2));
    emit(Insn(BPF_STX | BPF_ATOMIC | BPF_DW, BPF_REG_9, BPF_REG_1, 0, BPF_XCHG));
  }
  int mapUpdate = static_cast<int>(p.size());
  emit(Insn(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, tupleMapFd));
  emit(Insn(0, 0, 0, 0, 0));
  emit(Insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0));
  emit(Insn(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -56));
  emit(Insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_10, 0, 0));
  emit(Insn(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_3, 0, 0, -80));
  emit(Insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_4, 0, 0, BPF_ANY));
  emit(Insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_update_elem));
  int done = static_cast<int>(p.size());
  emit(Insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1));  // 1: nothing to change
  emit(Insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
  auto jumpTo = [&p](int from, int to) { p[static_cast<size_t>(from)].off = static_cast<int16_t>(to - from - 1); };
  jumpTo(notConnect, done);
  jumpTo(noRecord, done);
  jumpTo(notIpv6, ipv4);
  jumpTo(toValue, value);
  for (int jump : toMap) jumpTo(jump, mapUpdate);
  return Load(BPF_PROG_TYPE_SOCK_OPS, BPF_CGROUP_SOCK_OPS, p.data(), p.size(), error);
}

bool Lookup(int map, const void* key, ConnectRecord& record) {
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.map_fd = map;
  attr.key = reinterpret_cast<uint64_t>(key);
  attr.value = reinterpret_cast<uint64_t>(&record);
  return map >= 0 && Bpf(BPF_MAP_LOOKUP_ELEM, &attr) == 0;
}

// The record in the key's slot, if the slot holds that key and no writer held it while it was read.
bool SlotLookup(const uint8_t* key, ConnectRecord& record) {
  if (!slots) return false;
  uint32_t port;
  std::memcpy(&port, key + 4, sizeof port);
  const Slot& slot = slots[port & (kSlots - 1)];
  uint64_t before = __atomic_load_n(&slot.sequence, __ATOMIC_ACQUIRE);
  if (before == 0 || (before & 1) != 0 || std::memcmp(slot.key, key, kTupleKeyBytes) != 0) return false;
  std::memcpy(&record, &slot.record, sizeof record);
  __atomic_thread_fence(__ATOMIC_ACQUIRE);
  return __atomic_load_n(&slot.sequence, __ATOMIC_RELAXED) == before;
}

// The 4-tuple key's owner: from its slot, else from the 4-tuple map.
bool TupleLookup(const uint8_t* key, ConnectRecord& record) {
  if (SlotLookup(key, record)) {
    slotHits += 1;
    return true;
  }
  return Lookup(tupleMapFd, key, record);
}

// The tuple key of an IPv4 connection, as the sock_ops program builds it (little-endian hosts, as Node's are).
void Ipv4TupleKey(uint8_t key[kTupleKeyBytes], const sockaddr_in& local, const sockaddr_in& remote) {
  std::memset(key, 0, kTupleKeyBytes);
  uint32_t family = AF_INET;
  uint32_t localPort = ntohs(local.sin_port);
  uint32_t remotePort = static_cast<uint32_t>(remote.sin_port) << 16;  // the port's bytes as they are on the wire
  std::memcpy(key, &family, 4);
  std::memcpy(key + 4, &localPort, 4);
  std::memcpy(key + 8, &remotePort, 4);
  std::memcpy(key + 16, &local.sin_addr, 4);
  std::memcpy(key + 32, &remote.sin_addr, 4);
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
  sockaddr_in local;
  socklen_t localLength = sizeof local;
  bool haveLocal = getsockname(probe, reinterpret_cast<sockaddr*>(&local), &localLength) == 0;
  close(probe);
  if (!haveCookie) return error = Failure("self-test SO_COOKIE"), false;
  ConnectRecord record;
  // The 4-tuple half sees the SYN's 4-tuple; if it filed something else (another key layout), it is dropped.
  uint8_t key[kTupleKeyBytes];
  Ipv4TupleKey(key, local, loopback);
  if (tupleMapFd >= 0 && !(haveLocal && Lookup(tupleMapFd, key, record) && static_cast<int>(record.pidTgid >> 32) == getpid())) {
    tupleProblem = "the sock_ops program did not file this process's loopback connect under its 4-tuple";
    CloseTuples();
  }
  if (slots && !(haveLocal && SlotLookup(key, record) && static_cast<int>(record.pidTgid >> 32) == getpid())) {
    slotProblem = "the sock_ops program did not write this process's loopback connect into its slot";
    UnmapSlots();
  }
  if (!Lookup(mapFd, &cookie, record)) {
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

// connectHookStart(cgroupDir) -> { records: 'pid-and-comm' | 'pid', tuples: 'attached' | why not }; throws an Error naming the step that failed
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
  mapFd = CreateMap(BPF_MAP_TYPE_LRU_HASH, sizeof(uint64_t), sizeof(ConnectRecord), kMaxConnects);
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
  // The 4-tuple half: without it (an older kernel) callers are still named, through sock_diag's cookie.
  tupleProblem.clear();
  slotProblem.clear();
  slotHits = 0;
  if (error.empty()) {
    tupleMapFd = CreateMap(BPF_MAP_TYPE_LRU_HASH, kTupleKeyBytes, sizeof(ConnectRecord), kMaxConnects);
    if (tupleMapFd < 0) tupleProblem = Failure("creating the 4-tuple map");
    if (tupleMapFd >= 0) {
      programFds[2] = MapSlots() ? LoadTupleProgram(true, slotProblem) : -1;
      if (programFds[2] < 0) {
        UnmapSlots();
        programFds[2] = LoadTupleProgram(false, tupleProblem);
      }
    }
    if (programFds[2] >= 0) {
      std::memset(&attr, 0, sizeof attr);
      attr.link_create.prog_fd = programFds[2];
      attr.link_create.target_fd = cgroupFd;
      attr.link_create.attach_type = BPF_CGROUP_SOCK_OPS;
      linkFds[2] = static_cast<int>(Bpf(BPF_LINK_CREATE, &attr));
      if (linkFds[2] < 0) tupleProblem = Failure("attaching the sock_ops program");
    }
    if (linkFds[2] < 0) CloseTuples();
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
  started.Set("tuples", Napi::String::New(env, tupleMapFd >= 0 ? "attached" : tupleProblem));
  started.Set("slots", Napi::String::New(env, slots ? "mapped" : tupleMapFd >= 0 ? slotProblem : "no 4-tuple map"));
  return started;
}

Napi::Object OwnerObject(Napi::Env env, const ConnectRecord& record) {
  Napi::Object owner = Napi::Object::New(env);
  owner.Set("pid", Napi::Number::New(env, static_cast<double>(record.pidTgid >> 32)));
  owner.Set("comm", Napi::String::New(env, record.comm, strnlen(record.comm, sizeof record.comm)));
  return owner;
}

// connectHookOwner(cookie: bigint) -> { pid, comm } | undefined: who called connect() on that socket.
Napi::Value ConnectHookOwnerFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsBigInt()) {
    Napi::TypeError::New(env, "connectHookOwner(cookie: bigint)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  bool lossless = false;
  uint64_t cookie = info[0].As<Napi::BigInt>().Uint64Value(&lossless);
  ConnectRecord record;
  if (!lossless || !Lookup(mapFd, &cookie, record)) return env.Undefined();
  return OwnerObject(env, record);
}

// connectHookOwnerByTuple(key: Buffer of 48 bytes) -> { pid, comm } | undefined: the owner of the connection with
// that 4-tuple key (layout above), filed as it sent its SYN.
Napi::Value ConnectHookOwnerByTupleFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsBuffer() || info[0].As<Napi::Buffer<uint8_t>>().Length() != kTupleKeyBytes) {
    Napi::TypeError::New(env, "connectHookOwnerByTuple(key: Buffer of 48 bytes)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  ConnectRecord record;
  if (tupleMapFd < 0 || !TupleLookup(info[0].As<Napi::Buffer<uint8_t>>().Data(), record)) return env.Undefined();
  return OwnerObject(env, record);
}

// connectHookSlotHits() -> owners read from a slot since the hook was attached (the others asked the 4-tuple map).
Napi::Value ConnectHookSlotHitsFn(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), slotHits); }

Napi::Value ConnectHookStopFn(const Napi::CallbackInfo& info) {
  CloseAll();
  return info.Env().Undefined();
}

}  // namespace

void InitConnectHook(Napi::Env env, Napi::Object exports) {
  exports.Set("connectHookStart", Napi::Function::New(env, ConnectHookStartFn));
  exports.Set("connectHookOwner", Napi::Function::New(env, ConnectHookOwnerFn));
  exports.Set("connectHookOwnerByTuple", Napi::Function::New(env, ConnectHookOwnerByTupleFn));
  exports.Set("connectHookStop", Napi::Function::New(env, ConnectHookStopFn));
  exports.Set("connectHookSlotHits", Napi::Function::New(env, ConnectHookSlotHitsFn));
}
