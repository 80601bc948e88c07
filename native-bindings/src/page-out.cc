// pageOutCode() -> bytes advised: hands back to the kernel this process's read-only file-backed pages — the node
// binary's and the libraries' code and constants, ~40 MiB of which start-up touches (module loading, compiling)
// and serving mostly does not use. MADV_PAGEOUT reclaims the pages no other process maps; MADV_DONTNEED then
// unmaps the rest from this process only (another node process, such as a test runner, still maps them, so they
// stay in the page cache). Either way, a page serving uses comes back on its first touch as a minor fault, with the
// file's contents. Only mappings with no private copy of a page (smaps "Anonymous: 0 kB") are dropped: a page the
// dynamic loader relocated and then made read-only (RELRO) has one, and dropping it would lose the relocation.
// Writable mappings are left alone. A kernel before 5.4 (no MADV_PAGEOUT) still gets the MADV_DONTNEED.
#include <napi.h>

#include <cstdio>
#include <cstring>
#include <sys/mman.h>
#include <vector>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

namespace {

struct Mapping {
  unsigned long start;
  unsigned long end;
  bool candidate;  // file-backed, read-only
  long anonymousKb;
};

std::vector<Mapping> ReadOnlyFileMappings() {
  std::vector<Mapping> mappings;
  FILE* smaps = std::fopen("/proc/self/smaps", "re");
  if (smaps == nullptr) return mappings;
  char line[4352];
  while (std::fgets(line, sizeof line, smaps) != nullptr) {
    unsigned long start = 0;
    unsigned long end = 0;
    char perms[8] = {0};
    char name[4096] = {0};
    long kb = 0;
    int fields = std::sscanf(line, "%lx-%lx %7s %*s %*s %*s %4095s", &start, &end, perms, name);
    if (fields >= 3 && std::strchr(line, '-') != nullptr && line[0] != ' ' && std::strncmp(line, "Anonymous:", 10) != 0 &&
        end > start) {
      bool candidate = fields == 4 && name[0] == '/' && perms[0] == 'r' && perms[1] != 'w';
      mappings.push_back({start, end, candidate, -1});
    } else if (!mappings.empty() && std::sscanf(line, "Anonymous: %ld kB", &kb) == 1) {
      mappings.back().anonymousKb = kb;
    }
  }
  std::fclose(smaps);
  return mappings;
}

Napi::Value PageOutCodeFn(const Napi::CallbackInfo& info) {
  double advised = 0;
  for (const Mapping& mapping : ReadOnlyFileMappings()) {
    if (!mapping.candidate || mapping.anonymousKb != 0) continue;
    void* start = reinterpret_cast<void*>(mapping.start);
    size_t length = mapping.end - mapping.start;
    madvise(start, length, MADV_PAGEOUT);
    if (madvise(start, length, MADV_DONTNEED) == 0) advised += static_cast<double>(length);
  }
  return Napi::Number::New(info.Env(), advised);
}

}  // namespace

void InitPageOut(Napi::Env env, Napi::Object exports) {
  exports.Set("pageOutCode", Napi::Function::New(env, PageOutCodeFn));
}
