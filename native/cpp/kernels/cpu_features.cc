#include "cpu_features.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>

#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64) || defined(_M_IX86)
#define SBERT_CPUID_X86 1
#if defined(_MSC_VER)
#include <intrin.h>
#else
#include <cpuid.h>
#endif
#else
#define SBERT_CPUID_X86 0
#endif

#if defined(__linux__) && SBERT_CPUID_X86
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace sbert {

bool CpuFeatures::operator==(const CpuFeatures& o) const {
  return avx2 == o.avx2 && fma == o.fma && avx512f == o.avx512f && avx512bw == o.avx512bw &&
         avx512vl == o.avx512vl && avx512dq == o.avx512dq && avx512vnni == o.avx512vnni &&
         avxvnni == o.avxvnni && avx512bf16 == o.avx512bf16 && amxTile == o.amxTile &&
         amxInt8 == o.amxInt8 && amxBf16 == o.amxBf16;
}

namespace {

// Every feature with its /proc/cpuinfo name, in the order cpuFeatureNames prints them.
struct FeatureField {
  bool CpuFeatures::*field;
  const char* name;
};
const FeatureField kFields[] = {
    {&CpuFeatures::avx2, "avx2"},           {&CpuFeatures::fma, "fma"},
    {&CpuFeatures::avxvnni, "avx_vnni"},    {&CpuFeatures::avx512f, "avx512f"},
    {&CpuFeatures::avx512bw, "avx512bw"},   {&CpuFeatures::avx512vl, "avx512vl"},
    {&CpuFeatures::avx512dq, "avx512dq"},   {&CpuFeatures::avx512vnni, "avx512_vnni"},
    {&CpuFeatures::avx512bf16, "avx512_bf16"}, {&CpuFeatures::amxTile, "amx_tile"},
    {&CpuFeatures::amxInt8, "amx_int8"},    {&CpuFeatures::amxBf16, "amx_bf16"},
};

#if SBERT_CPUID_X86
void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]) {
#if defined(_MSC_VER)
  int v[4];
  __cpuidex(v, int(leaf), int(sub));
  for (int i = 0; i < 4; ++i) r[i] = uint32_t(v[i]);
#else
  if (!__get_cpuid_count(leaf, sub, &r[0], &r[1], &r[2], &r[3])) r[0] = r[1] = r[2] = r[3] = 0;
#endif
}

// XCR0: which register states the OS saves on a context switch (valid only with OSXSAVE).
uint64_t xcr0() {
#if defined(_MSC_VER)
  return _xgetbv(0);
#else
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t(hi) << 32) | lo;
#endif
}
#endif

CpuFeatures detectHardware() {
  CpuFeatures f;
#if SBERT_CPUID_X86
  uint32_t r[4];
  cpuid(0, 0, r);
  const uint32_t maxLeaf = r[0];
  if (maxLeaf < 1) return f;
  cpuid(1, 0, r);
  const bool osxsave = (r[2] >> 27) & 1, avx = (r[2] >> 28) & 1, fma = (r[2] >> 12) & 1;
  if (!osxsave || !avx) return f;
  const uint64_t xcr = xcr0();
  const bool ymmState = (xcr & 0x6) == 0x6;            // SSE + AVX
  const bool zmmState = ymmState && (xcr & 0xE0) == 0xE0;  // opmask, ZMM_Hi256, Hi16_ZMM
  const bool tileState = (xcr & 0x60000) == 0x60000;   // XTILECFG, XTILEDATA
  if (!ymmState || maxLeaf < 7) return f;
  cpuid(7, 0, r);
  const uint32_t ebx7 = r[1], ecx7 = r[2], edx7 = r[3], maxSub7 = r[0];
  uint32_t eax7s1 = 0;
  if (maxSub7 >= 1) {
    cpuid(7, 1, r);
    eax7s1 = r[0];
  }
  f.avx2 = (ebx7 >> 5) & 1;
  f.fma = fma;
  f.avxvnni = f.avx2 && ((eax7s1 >> 4) & 1);
  if (zmmState) {
    f.avx512f = (ebx7 >> 16) & 1;
    f.avx512dq = f.avx512f && ((ebx7 >> 17) & 1);
    f.avx512bw = f.avx512f && ((ebx7 >> 30) & 1);
    f.avx512vl = f.avx512f && ((ebx7 >> 31) & 1);
    f.avx512vnni = f.avx512f && ((ecx7 >> 11) & 1);
    f.avx512bf16 = f.avx512f && ((eax7s1 >> 5) & 1);
  }
  if (tileState) {
    f.amxTile = (edx7 >> 24) & 1;
    f.amxInt8 = f.amxTile && ((edx7 >> 25) & 1);
    f.amxBf16 = f.amxTile && ((edx7 >> 22) & 1);
  }
#endif
  return f;
}

// The feature set each SBERT_CPU_ISA / SBERT_CPU_FEATURES name stands for; false if unknown.
bool namedSet(const char* name, const CpuFeatures& hardware, CpuFeatures& out) {
  const std::string n = name;
  CpuFeatures f;
  if (n == "native") {
    out = hardware;
    return true;
  }
  if (n == "portable") {
    out = f;
    return true;
  }
  if (n != "avx2" && n != "avx2-fma" && n != "avxvnni" && n != "avx512" && n != "avx512vnni" &&
      n != "avx512bf16" && n != "amx") {
    return false;
  }
  f.avx2 = f.fma = true;
  if (n == "avxvnni" || n == "amx") f.avxvnni = true;
  if (n == "avx512" || n == "avx512vnni" || n == "avx512bf16" || n == "amx") {
    f.avx512f = f.avx512bw = f.avx512vl = f.avx512dq = true;
  }
  if (n == "avx512vnni" || n == "avx512bf16" || n == "amx") f.avx512vnni = true;
  if (n == "avx512bf16" || n == "amx") f.avx512bf16 = true;
  if (n == "amx") f.amxTile = f.amxInt8 = f.amxBf16 = true;
  out = f;
  return true;
}

CpuFeatures intersect(const CpuFeatures& a, const CpuFeatures& b) {
  CpuFeatures r;
  for (const FeatureField& ff : kFields) r.*ff.field = a.*ff.field && b.*ff.field;
  return r;
}

const char* kIsaNames = "portable|avx2|avxvnni|avx512|avx512vnni|avx512bf16|amx|native";

struct Active {
  CpuFeatures features;
  std::string error;
  CpuIsa isa = CpuIsa::Portable;
};

const Active& active() {
  static const Active a = [] {
    Active r;
    CpuDispatch d = resolveCpuDispatch(hardwareCpuFeatures(), std::getenv("SBERT_CPU_ISA"),
                                       std::getenv("SBERT_CPU_FEATURES"));
    r.features = d.features;
    r.error = std::move(d.error);
    const CpuFeatures& f = r.features;
    r.isa = f.avx2 && f.fma ? (f.avx512f ? CpuIsa::Avx512 : CpuIsa::Avx2) : CpuIsa::Portable;
    return r;
  }();
  return a;
}

}  // namespace

CpuFeatures hardwareCpuFeatures() {
  static const CpuFeatures f = detectHardware();
  return f;
}

std::string cpuFeatureNames(const CpuFeatures& f) {
  std::string s;
  for (const FeatureField& ff : kFields) {
    if (!(f.*ff.field)) continue;
    if (!s.empty()) s += ' ';
    s += ff.name;
  }
  return s.empty() ? "none" : s;
}

CpuDispatch resolveCpuDispatch(const CpuFeatures& hardware, const char* isa, const char* cap) {
  CpuDispatch d;
  d.features = hardware;
  if (isa && *isa) {
    CpuFeatures want;
    if (!namedSet(isa, hardware, want)) {
      d.error = std::string("SBERT_CPU_ISA=") + isa + " is not one of " + kIsaNames;
    } else {
      std::string missing;
      for (const FeatureField& ff : kFields) {
        if (want.*ff.field && !(hardware.*ff.field)) {
          if (!missing.empty()) missing += ", ";
          missing += ff.name;
        }
      }
      if (!missing.empty()) {
        d.error = std::string("SBERT_CPU_ISA=") + isa + " needs " + missing +
                  ", which this CPU lacks (it has: " + cpuFeatureNames(hardware) + ")";
      } else {
        d.features = want;
      }
    }
  }
  // The older cap: a known name limits the features; anything else leaves them alone.
  CpuFeatures capSet;
  if (cap && *cap && namedSet(cap, hardware, capSet)) d.features = intersect(d.features, capSet);
  return d;
}

const CpuFeatures& activeCpuFeatures() { return active().features; }

const std::string& cpuIsaOverrideError() { return active().error; }

bool enableAmxTiles() {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] {
    const CpuFeatures& f = activeCpuFeatures();
    if (!f.amxTile) return;
#if defined(__linux__) && SBERT_CPUID_X86
    constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
    ok = syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
#else
    ok = false;  // other systems: tile state permission handling not implemented
#endif
  });
  return ok;
}

CpuIsa activeCpuIsa() { return active().isa; }

CpuIsa clampCpuIsa(CpuIsa want) {
  const CpuIsa have = activeCpuIsa();
  return static_cast<int>(want) < static_cast<int>(have) ? want : have;
}

const char* cpuIsaName(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::Avx512: return "avx512";
    case CpuIsa::Avx2: return "avx2-fma";
    default: return "portable";
  }
}

}  // namespace sbert
