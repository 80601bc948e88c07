// A tap takes one frame per read() or write(), and on a virtual machine the system call itself (entry, exit, the
// hypervisor's part of both) costs more than the tap's work on a small frame. So frames cross in batches of
// io_uring requests, each batch submitted and reaped by one io_uring_enter(): a send batch as that many writes,
// a readable tap as up to kReadsAtOnce reads of which those finding no frame end at once with EAGAIN (RWF_NOWAIT:
// io_uring would otherwise wait for data even on a non-blocking fd; a probe on an empty pipe checks this kernel
// ends such reads at once, and a pass that finds nothing on a readable tap is checked by one read()).
// Where io_uring cannot be set up (an older kernel, a seccomp filter, the io_uring_disabled sysctl) or
// `serve --tap-io syscalls` asks, a read() or write() per frame as before. Raw system calls: no liburing needed.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <linux/fs.h>
#include <linux/io_uring.h>
#include <string>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <unistd.h>

namespace {

constexpr unsigned kRingEntries = 64;  // the send batch's frame bound (src/link/send-batch.ts)

struct Ring {
  int fd = -1;
  unsigned* sqHead = nullptr;
  unsigned* sqTail = nullptr;
  unsigned sqMask = 0;
  unsigned sqEntries = 0;
  unsigned* sqArray = nullptr;
  io_uring_sqe* sqes = nullptr;
  unsigned* cqHead = nullptr;
  unsigned* cqTail = nullptr;
  unsigned cqMask = 0;
  io_uring_cqe* cqes = nullptr;
};

Ring ring;       // the send batches'
Ring readRing;   // the readable tap's
bool ringTried = false;
bool useRings = true;  // false: serve --tap-io syscalls
std::string ringProblem;

int Enter(const Ring& r, unsigned toSubmit, unsigned minComplete) {
  return static_cast<int>(syscall(__NR_io_uring_enter, r.fd, toSubmit, minComplete, IORING_ENTER_GETEVENTS, nullptr, 0));
}

bool SetUp(Ring& ring) {
  io_uring_params params;
  std::memset(&params, 0, sizeof params);
  int fd = static_cast<int>(syscall(__NR_io_uring_setup, kRingEntries, &params));
  if (fd < 0) {
    ringProblem = std::string("io_uring_setup: ") + std::strerror(errno);
    return false;
  }
  size_t sqBytes = params.sq_off.array + params.sq_entries * sizeof(unsigned);
  size_t cqBytes = params.cq_off.cqes + params.cq_entries * sizeof(io_uring_cqe);
  bool single = (params.features & IORING_FEAT_SINGLE_MMAP) != 0;
  if (single) sqBytes = cqBytes = sqBytes > cqBytes ? sqBytes : cqBytes;
  void* sq = mmap(nullptr, sqBytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
  void* cq = single ? sq : mmap(nullptr, cqBytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_CQ_RING);
  void* sqes = mmap(nullptr, params.sq_entries * sizeof(io_uring_sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
                    IORING_OFF_SQES);
  if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED) {
    ringProblem = std::string("mmap of the io_uring rings: ") + std::strerror(errno);
    close(fd);  // the mappings that succeeded stay: a few pages, once per process
    return false;
  }
  char* s = static_cast<char*>(sq);
  char* c = static_cast<char*>(cq);
  ring.sqHead = reinterpret_cast<unsigned*>(s + params.sq_off.head);
  ring.sqTail = reinterpret_cast<unsigned*>(s + params.sq_off.tail);
  ring.sqMask = *reinterpret_cast<unsigned*>(s + params.sq_off.ring_mask);
  ring.sqEntries = params.sq_entries;
  ring.sqArray = reinterpret_cast<unsigned*>(s + params.sq_off.array);
  ring.sqes = static_cast<io_uring_sqe*>(sqes);
  ring.cqHead = reinterpret_cast<unsigned*>(c + params.cq_off.head);
  ring.cqTail = reinterpret_cast<unsigned*>(c + params.cq_off.tail);
  ring.cqMask = *reinterpret_cast<unsigned*>(c + params.cq_off.ring_mask);
  ring.cqes = reinterpret_cast<io_uring_cqe*>(c + params.cq_off.cqes);
  ring.fd = fd;
  return true;
}

uint32_t WriteEach(int fd, const uint8_t* data, size_t available, const uint32_t* lengths, size_t count) {
  size_t offset = 0;
  uint32_t written = 0;
  for (size_t i = 0; i < count; i++) {
    size_t length = lengths[i];
    if (length > available - offset) break;  // a table that runs past the bytes: write nothing beyond them
    ssize_t n;
    do {
      n = write(fd, data + offset, length);
    } while (n < 0 && errno == EINTR);
    if (n == static_cast<ssize_t>(length)) written += 1;
    offset += length;
  }
  return written;
}

// Up to sqEntries frames at a time: queue them, submit and wait for all of their completions in one call.
// A completion whose result is not the frame's length is a frame lost, as a refused write() would be.
uint32_t WriteRinged(int fd, const uint8_t* data, size_t available, const uint32_t* lengths, size_t count) {
  size_t offset = 0;
  size_t next = 0;
  uint32_t written = 0;
  while (next < count) {
    unsigned tail = *ring.sqTail;  // only this thread moves the tail
    unsigned queued = 0;
    while (next < count && queued < ring.sqEntries) {
      size_t length = lengths[next];
      if (length > available - offset) {
        next = count;
        break;
      }
      unsigned index = tail & ring.sqMask;
      io_uring_sqe* sqe = &ring.sqes[index];
      std::memset(sqe, 0, sizeof *sqe);
      sqe->opcode = IORING_OP_WRITE;
      sqe->fd = fd;
      sqe->addr = reinterpret_cast<uint64_t>(data + offset);
      sqe->len = static_cast<uint32_t>(length);
      sqe->off = 0;  // a tap has no file position
      sqe->user_data = length;
      ring.sqArray[index] = index;
      tail += 1;
      queued += 1;
      offset += length;
      next += 1;
    }
    if (queued == 0) break;
    __atomic_store_n(ring.sqTail, tail, __ATOMIC_RELEASE);
    unsigned toSubmit = queued;
    unsigned reaped = 0;
    unsigned cqHead = *ring.cqHead;
    while (reaped < queued) {
      int entered = Enter(ring, toSubmit, queued - reaped);
      if (entered < 0 && errno != EINTR) {
        // The kernel took none of them (or cannot wait): count what completed, write the rest one by one.
        break;
      }
      if (entered > 0) toSubmit -= static_cast<unsigned>(entered) < toSubmit ? static_cast<unsigned>(entered) : toSubmit;
      unsigned cqTail = __atomic_load_n(ring.cqTail, __ATOMIC_ACQUIRE);
      while (cqHead != cqTail) {
        const io_uring_cqe& cqe = ring.cqes[cqHead & ring.cqMask];
        if (cqe.res >= 0 && static_cast<uint64_t>(cqe.res) == cqe.user_data) written += 1;
        cqHead += 1;
        reaped += 1;
      }
      __atomic_store_n(ring.cqHead, cqHead, __ATOMIC_RELEASE);
    }
    if (reaped < queued) {
      // io_uring_enter failed outright: give up on the ring for good (the frames it did not take are lost, once).
      close(ring.fd);
      ring.fd = -1;
      close(readRing.fd);
      readRing.fd = -1;
      ringProblem = std::string("io_uring_enter: ") + std::strerror(errno);
      return written + WriteEach(fd, data + offset, available - offset, lengths + next, count - next);
    }
  }
  return written;
}

// Queues one read per buffer, submits them without waiting, and reaps what completed: every read of a
// non-blocking fd completes inside the submission (a frame, or EAGAIN). Returns false when one did not.
bool ReadOnce(Ring& r, int fd, uint8_t* buffers, size_t bufferBytes, unsigned reads, int* results) {
  unsigned tail = *r.sqTail;
  for (unsigned i = 0; i < reads; i++) {
    unsigned index = tail & r.sqMask;
    io_uring_sqe* sqe = &r.sqes[index];
    std::memset(sqe, 0, sizeof *sqe);
    sqe->opcode = IORING_OP_READ;
    sqe->fd = fd;
    sqe->addr = reinterpret_cast<uint64_t>(buffers + i * bufferBytes);
    sqe->len = static_cast<uint32_t>(bufferBytes);
    sqe->user_data = i;
    sqe->rw_flags = RWF_NOWAIT;  // never wait for data: a read that finds none ends with EAGAIN
    r.sqArray[index] = index;
    tail += 1;
    results[i] = -EAGAIN;
  }
  __atomic_store_n(r.sqTail, tail, __ATOMIC_RELEASE);
  int entered;
  do {
    entered = Enter(r, reads, 0);
  } while (entered < 0 && errno == EINTR);
  if (entered != static_cast<int>(reads)) return false;
  unsigned cqHead = *r.cqHead;
  unsigned cqTail = __atomic_load_n(r.cqTail, __ATOMIC_ACQUIRE);
  unsigned reaped = 0;
  while (cqHead != cqTail) {
    const io_uring_cqe& cqe = r.cqes[cqHead & r.cqMask];
    if (cqe.user_data < reads) results[cqe.user_data] = cqe.res;
    cqHead += 1;
    reaped += 1;
  }
  __atomic_store_n(r.cqHead, cqHead, __ATOMIC_RELEASE);
  return reaped == reads;
}

// Does this kernel end a read of an empty non-blocking fd at once? (Some arm a poll and wait for data instead,
// which would leave our reads pending.) Asked once, on a pipe of our own, with a ring of its own.
bool NonBlockingReadsEndAtOnce() {
  int pipeFds[2];
  if (pipe2(pipeFds, O_NONBLOCK | O_CLOEXEC) != 0) return false;
  Ring probe;
  bool ok = false;
  if (SetUp(probe)) {
    uint8_t buffer[16];
    int result = 0;
    ok = ReadOnce(probe, pipeFds[0], buffer, sizeof buffer, 1, &result) && result == -EAGAIN;
    close(probe.fd);  // a read left pending is cancelled with the ring
  }
  close(pipeFds[0]);
  close(pipeFds[1]);
  return ok;
}

void TryRings() {
  if (ringTried) return;
  ringTried = true;
  if (!useRings) {
    ringProblem = "serve --tap-io syscalls";
    return;
  }
  if (!SetUp(ring)) return;
  if (!NonBlockingReadsEndAtOnce()) {
    ringProblem = "this kernel does not end io_uring reads of an empty non-blocking fd at once";
    close(ring.fd);
    ring.fd = -1;
    return;
  }
  if (!SetUp(readRing)) {
    close(ring.fd);
    ring.fd = -1;
  }
}

uint32_t ReadEach(int fd, uint8_t* buffers, size_t frameBytes, uint32_t maxFrames, uint32_t* lengths, uint32_t count) {
  for (; count < maxFrames; count++) {
    ssize_t n = read(fd, buffers + count * frameBytes, frameBytes);
    if (n <= 0) break;  // EAGAIN (drained) or an error the next wakeup will see again
    lengths[count] = static_cast<uint32_t>(n);
  }
  return count;
}

void GiveUpRings(const char* why) {
  ringProblem = why;
  close(readRing.fd);  // reads left pending, if any, end with the ring
  readRing.fd = -1;
  close(ring.fd);
  ring.fd = -1;
}

}  // namespace

// Frames written whole: frame i is the next lengths[i] bytes of `data`.
uint32_t WriteFrameBatch(int fd, const uint8_t* data, size_t available, const uint32_t* lengths, size_t count) {
  TryRings();
  if (ring.fd < 0 || count < 2) return WriteEach(fd, data, available, lengths, count);
  return WriteRinged(fd, data, available, lengths, count);
}

// Reads up to `maxFrames` frames (each up to `frameBytes`) into slot i of `buffers` (maxFrames * frameBytes bytes),
// in order; `lengths` gets each frame's length. Returns how many. Stops at the first pass with a read that found no
// frame. Called when the fd is readable: a pass of io_uring reads that finds nothing then is checked by one read(),
// so a kernel whose tap refuses io_uring's non-waiting reads is noticed at its first frame and never loses one.
uint32_t ReadFrameBatch(int fd, uint8_t* buffers, size_t frameBytes, uint32_t maxFrames, uint32_t* lengths) {
  TryRings();
  if (readRing.fd < 0) return ReadEach(fd, buffers, frameBytes, maxFrames, lengths, 0);
  constexpr unsigned kReadsAtOnce = 16;
  int results[kReadsAtOnce];
  uint32_t count = 0;
  while (count < maxFrames) {
    unsigned reads = maxFrames - count < kReadsAtOnce ? maxFrames - count : kReadsAtOnce;
    uint8_t* base = buffers + count * frameBytes;
    if (!ReadOnce(readRing, fd, base, frameBytes, reads, results)) {
      GiveUpRings("an io_uring read of the tap did not end at once");
      return ReadEach(fd, buffers, frameBytes, maxFrames, lengths, count);
    }
    unsigned got = 0;
    bool drained = false;
    bool refused = false;
    for (unsigned i = 0; i < reads; i++) {
      if (results[i] > 0) {
        // Frames land in their own slots; keep them in consecutive slots in the order of their reads.
        if (got != i) std::memmove(base + got * frameBytes, base + i * frameBytes, static_cast<size_t>(results[i]));
        lengths[count + got] = static_cast<uint32_t>(results[i]);
        got += 1;
      } else {
        drained = true;
        if (results[i] != -EAGAIN) refused = true;
      }
    }
    if (refused && got == 0) {
      GiveUpRings("the tap refused io_uring's non-waiting reads");
      return ReadEach(fd, buffers, frameBytes, maxFrames, lengths, count);
    }
    if (count == 0 && got == 0) {
      ssize_t n = read(fd, buffers, frameBytes);
      if (n > 0) {
        GiveUpRings("io_uring reads of the tap found no frame where read() found one");
        lengths[0] = static_cast<uint32_t>(n);
        return ReadEach(fd, buffers, frameBytes, maxFrames, lengths, 1);
      }
      return 0;  // a wake-up with nothing to read
    }
    count += got;
    if (drained) break;
  }
  return count;
}

void UseTapRings(bool use) { useRings = use; }

// "io_uring", or "syscalls (why not io_uring)": decided on the first call (or the first frame).
std::string TapIoMethod() {
  TryRings();
  return ring.fd >= 0 ? "io_uring" : "syscalls (" + ringProblem + ")";
}
