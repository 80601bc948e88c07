// The only things Node cannot do for imds-hop: TUNSETIFF on /dev/net/tun, and watching that fd on libuv's loop.
// (callers.cc adds the netlink exchange and the /proc socket-owner search used to name the caller of a connection.)
// Frames cross the JS boundary in batches both ways: every frame readable on a wake-up is read here into one pooled
// buffer and handed to JS as one copy with a table of lengths; frames queued by JS during one turn of the event loop
// are written here by one call (a write() per frame: a tap takes one frame per write). All logic is in TypeScript.
#include <napi.h>
#include <uv.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <string>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

void InitCallers(Napi::Env env, Napi::Object exports);  // callers.cc
void InitConnectHook(Napi::Env env, Napi::Object exports);  // connect-hook.cc
void InitPageOut(Napi::Env env, Napi::Object exports);  // page-out.cc
uint32_t WriteFrameBatch(int fd, const uint8_t* data, size_t available, const uint32_t* lengths, size_t count);  // tap-uring.cc
uint32_t ReadFrameBatch(int fd, uint8_t* buffers, size_t frameBytes, uint32_t maxFrames, uint32_t* lengths);  // tap-uring.cc
std::string TapIoMethod();  // tap-uring.cc
void UseTapRings(bool use);  // tap-uring.cc

namespace {

constexpr size_t kMaxFrameBytes = 65536;
constexpr uint32_t kMaxFramesPerWakeup = 64;  // bounds the time spent in one callback so timers still run
constexpr size_t kSlotBytes = kMaxFramesPerWakeup * kMaxFrameBytes;

Napi::Error ErrnoError(Napi::Env env, const char* what, int err) {
  std::string message = std::string(what) + ": " + std::strerror(err);
  Napi::Error error = Napi::Error::New(env, message);
  const char* code = err == EPERM ? "EPERM" : err == EACCES ? "EACCES" : err == ENOENT ? "ENOENT"
                   : err == EBUSY ? "EBUSY" : err == EINVAL ? "EINVAL" : "ESYSCALL";
  error.Set("code", Napi::String::New(env, code));
  error.Set("errno", Napi::Number::New(env, err));
  error.Set("syscall", Napi::String::New(env, what));
  return error;
}

// openTap(name) -> { fd, name }: a non-blocking TAP fd without packet-info headers.
Napi::Value OpenTap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "openTap(name: string)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string name = info[0].As<Napi::String>();
  if (name.empty() || name.size() >= IFNAMSIZ) {
    Napi::Error e = Napi::Error::New(env, "interface name must be 1.." + std::to_string(IFNAMSIZ - 1) + " bytes");
    e.Set("code", Napi::String::New(env, "EINVAL"));
    e.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    ErrnoError(env, "open /dev/net/tun", errno).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  struct ifreq ifr;
  std::memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    close(fd);
    ErrnoError(env, "ioctl TUNSETIFF", err).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("fd", Napi::Number::New(env, fd));
  result.Set("name", Napi::String::New(env, ifr.ifr_name));
  return result;
}

// writeFrames(fd, bytes, lengths, count) -> frames written whole: frame i is the next lengths[i] bytes of `bytes`,
// in one io_uring submission where the kernel allows it, else one write() each (frame-writer.cc). A refused or
// short write (ENOBUFS, interface down) loses that frame, like a wire would.
Napi::Value WriteFrames(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsNumber() || !info[1].IsTypedArray() || !info[2].IsTypedArray() || !info[3].IsNumber() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array ||
      info[2].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
    Napi::TypeError::New(env, "writeFrames(fd: number, bytes: Uint8Array, lengths: Uint32Array, count: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Uint8Array bytes = info[1].As<Napi::Uint8Array>();
  Napi::Uint32Array lengths = info[2].As<Napi::Uint32Array>();
  int64_t count = info[3].As<Napi::Number>().Int64Value();
  if (count < 0 || static_cast<size_t>(count) > lengths.ElementLength()) {
    Napi::RangeError::New(env, "writeFrames: count exceeds the lengths table").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  uint32_t written = WriteFrameBatch(fd, bytes.Data(), bytes.ElementLength(), lengths.Data(), static_cast<size_t>(count));
  return Napi::Number::New(env, written);
}

// tapIo(mode?) -> "io_uring", or "syscalls (why not io_uring)"; decided at the first call or frame, so
// tapIo("syscalls") must come first to mean it (serve --tap-io syscalls).
Napi::Value TapIoFn(const Napi::CallbackInfo& info) {
  if (info.Length() > 0 && info[0].IsString() && info[0].As<Napi::String>().Utf8Value() == "syscalls") UseTapRings(false);
  return Napi::String::New(info.Env(), TapIoMethod());
}

// Watches a non-blocking fd with uv_poll and delivers the frames readable on each wake-up to a JS callback as
// onFrames(bytes, lengths, count): one Buffer holding the frames back to back (a copy of exactly their bytes, so
// JS may keep views of it) and a Uint32Array of their lengths, reused for every batch (read it before returning).
class FrameWatcher : public Napi::ObjectWrap<FrameWatcher> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "FrameWatcher",
                       {InstanceMethod("stop", &FrameWatcher::Stop),
                        InstanceAccessor("callbackExceptions", &FrameWatcher::CallbackExceptions, nullptr)});
  }

  explicit FrameWatcher(const Napi::CallbackInfo& info) : Napi::ObjectWrap<FrameWatcher>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsFunction() ||
        (info.Length() > 2 && !info[2].IsFunction() && !info[2].IsUndefined())) {
      Napi::TypeError::New(env,
                           "new FrameWatcher(fd: number, onFrames: (bytes: Buffer, lengths: Uint32Array, count: number) => void, onError?: (error) => void)")
          .ThrowAsJavaScriptException();
      return;
    }
    fd_ = info[0].As<Napi::Number>().Int32Value();
    callback_ = Napi::Persistent(info[1].As<Napi::Function>());
    if (info.Length() > 2 && info[2].IsFunction()) on_error_ = Napi::Persistent(info[2].As<Napi::Function>());
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
      Napi::Error::New(env, "no libuv loop").ThrowAsJavaScriptException();
      return;
    }
    void* slots = mmap(nullptr, kSlotBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (slots == MAP_FAILED) {
      ErrnoError(env, "mmap of the read slots", errno).ThrowAsJavaScriptException();
      return;
    }
    slots_ = static_cast<uint8_t*>(slots);
    poll_ = new uv_poll_t;
    int rc = uv_poll_init(loop, poll_, fd_);
    if (rc != 0) {
      delete poll_;
      poll_ = nullptr;
      ErrnoError(env, "uv_poll_init", -rc).ThrowAsJavaScriptException();
      return;
    }
    poll_->data = this;
    env_ = env;
    lengths_ = Napi::Persistent(Napi::Uint32Array::New(env, kMaxFramesPerWakeup));
    Ref();  // stay alive while the poll handle may call us
    uv_poll_start(poll_, UV_READABLE, OnReadable);
  }

  ~FrameWatcher() override {
    if (slots_ != nullptr) munmap(slots_, kSlotBytes);
  }

 private:
  static void OnReadable(uv_poll_t* handle, int status, int events) {
    (void)events;
    auto* self = static_cast<FrameWatcher*>(handle->data);
    if (self == nullptr || status < 0) return;
    self->Drain();
  }

  void Drain() {
    Napi::HandleScope scope(env_);
    Napi::Uint32Array lengths = lengths_.Value();
    // Frames past kMaxFramesPerWakeup stay queued and wake us again (level-triggered).
    uint32_t count = ReadFrameBatch(fd_, slots_, kMaxFrameBytes, kMaxFramesPerWakeup, lengths.Data());
    if (count == 0) return;
    // One allocation per batch, not per frame, holding the frames back to back; the slots are reused.
    size_t used = 0;
    for (uint32_t i = 0; i < count; i++) used += lengths[i];
    Napi::Buffer<uint8_t> bytes = Napi::Buffer<uint8_t>::New(env_, used);
    size_t offset = 0;
    for (uint32_t i = 0; i < count; i++) {
      std::memcpy(bytes.Data() + offset, slots_ + static_cast<size_t>(i) * kMaxFrameBytes, lengths[i]);
      offset += lengths[i];
    }
    // MakeCallback so promise jobs queued by the handler run, as for any libuv-driven callback.
    callback_.MakeCallback(Value(), {bytes, lengths, Napi::Number::New(env_, count)});
    // Nothing above JS catches for us here (we run from libuv, not from a JS call): an exception left pending
    // would make every later N-API call fail and silently end the data path. Take it, hand it to onError.
    TakePendingException();
  }

  void TakePendingException() {
    if (!env_.IsExceptionPending()) return;
    Napi::Error error = env_.GetAndClearPendingException();
    callback_exceptions_ += 1;
    if (on_error_.IsEmpty()) return;
    on_error_.Call(Value(), {error.Value()});
    if (env_.IsExceptionPending()) env_.GetAndClearPendingException();  // onError threw too: drop it
  }

  Napi::Value CallbackExceptions(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(callback_exceptions_));
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) {
      uv_poll_stop(poll_);
      poll_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      poll_ = nullptr;
      callback_.Reset();
      lengths_.Reset();
      if (!on_error_.IsEmpty()) on_error_.Reset();
      Unref();
    }
    return info.Env().Undefined();
  }

  Napi::Env env_ = nullptr;
  int fd_ = -1;
  uv_poll_t* poll_ = nullptr;
  Napi::FunctionReference callback_;
  Napi::FunctionReference on_error_;
  Napi::Reference<Napi::Uint32Array> lengths_;
  uint64_t callback_exceptions_ = 0;
  // One slot of kMaxFrameBytes per frame of a wake-up: only the pages frames touch become resident (a 1,514-byte
  // frame one page), so 64 slots of ordinary frames hold what the old 256 KiB pool did.
  uint8_t* slots_ = nullptr;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("openTap", Napi::Function::New(env, OpenTap));
  exports.Set("writeFrames", Napi::Function::New(env, WriteFrames));
  exports.Set("tapIo", Napi::Function::New(env, TapIoFn));
  exports.Set("FrameWatcher", FrameWatcher::Define(env));
  InitCallers(env, exports);
  InitConnectHook(env, exports);
  InitPageOut(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(imds_hop_native, Init)
