// CPU feature resolution (kernels/cpu_features.h): SBERT_CPU_ISA and SBERT_CPU_FEATURES applied
// to made-up hardware (an AVX2 laptop, a Skylake-X server, this machine), so the refusal of a
// set the CPU cannot run is tested on any machine; plus the real detection's consistency.
//
//   cpu_features_test          the checks
//   cpu_features_test --isas   prints the SBERT_CPU_ISA values this CPU can run, one a line
//                              (test/native-kernels.test.js forces each in turn)
#include <cstring>
#include <string>

#include "kernels/cpu_features.h"
#include "test_util.h"

using namespace sbert;
using sbert::test::Tally;

namespace {

const char* kIsas[] = {"portable", "avx2", "avxvnni", "avx512", "avx512vnni", "avx512bf16", "amx", "native"};

CpuFeatures avx2Laptop() {
  CpuFeatures f;
  f.avx2 = f.fma = true;
  return f;
}

CpuFeatures alderLake() {
  CpuFeatures f = avx2Laptop();
  f.avxvnni = true;
  return f;
}

CpuFeatures skylakeX() {
  CpuFeatures f = avx2Laptop();
  f.avx512f = f.avx512bw = f.avx512vl = f.avx512dq = true;
  return f;
}

CpuFeatures sapphireRapids() {
  CpuFeatures f = skylakeX();
  f.avxvnni = f.avx512vnni = f.avx512bf16 = true;
  f.amxTile = f.amxInt8 = f.amxBf16 = true;
  return f;
}

void checkResolution(Tally& t) {
  {
    const CpuDispatch d = resolveCpuDispatch(avx2Laptop(), "avx512", nullptr);
    t.check(!d.error.empty() && d.error.find("avx512f") != std::string::npos &&
                d.error.find("SBERT_CPU_ISA=avx512") != std::string::npos,
            "AVX2 laptop, SBERT_CPU_ISA=avx512: refused naming avx512f (%s)", d.error.c_str());
    t.check(d.features == avx2Laptop(), "refused: dispatch stays on the hardware's features");
  }
  {
    const CpuDispatch d = resolveCpuDispatch(skylakeX(), "avx512bf16", nullptr);
    t.check(d.error.find("avx512_vnni, avx512_bf16") != std::string::npos,
            "Skylake-X, SBERT_CPU_ISA=avx512bf16: names both missing features (%s)", d.error.c_str());
  }
  {
    const CpuDispatch d = resolveCpuDispatch(skylakeX(), "avxvnni", nullptr);
    t.check(d.error.find("avx_vnni") != std::string::npos, "Skylake-X, avxvnni: names avx_vnni (%s)",
            d.error.c_str());
  }
  {
    const CpuDispatch d = resolveCpuDispatch(sapphireRapids(), "bogus", nullptr);
    t.check(d.error.find("not one of") != std::string::npos && d.features == sapphireRapids(),
            "unknown value refused, features unchanged (%s)", d.error.c_str());
  }
  {
    const CpuDispatch d = resolveCpuDispatch(sapphireRapids(), "avx2", nullptr);
    t.check(d.error.empty() && d.features == avx2Laptop(), "SPR, avx2: exactly avx2+fma (%s)",
            cpuFeatureNames(d.features).c_str());
  }
  {
    const CpuDispatch d = resolveCpuDispatch(sapphireRapids(), "avxvnni", nullptr);
    t.check(d.error.empty() && d.features == alderLake(), "SPR, avxvnni: avx2+fma+avx_vnni (%s)",
            cpuFeatureNames(d.features).c_str());
  }
  {
    const CpuDispatch d = resolveCpuDispatch(sapphireRapids(), "avx512", nullptr);
    t.check(d.error.empty() && d.features == skylakeX(), "SPR, avx512: no VNNI, BF16 or AMX (%s)",
            cpuFeatureNames(d.features).c_str());
  }
  {
    const CpuDispatch d = resolveCpuDispatch(sapphireRapids(), "amx", nullptr);
    t.check(d.error.empty() && d.features == sapphireRapids(), "SPR, amx: everything (%s)",
            cpuFeatureNames(d.features).c_str());
  }
  {
    const CpuDispatch d = resolveCpuDispatch(skylakeX(), "native", nullptr);
    t.check(d.error.empty() && d.features == skylakeX(), "native = the hardware");
  }
  {
    const CpuDispatch d = resolveCpuDispatch(sapphireRapids(), "avx512vnni", "avx2");
    t.check(d.error.empty() && d.features == avx2Laptop(),
            "SBERT_CPU_FEATURES=avx2 caps a forced avx512vnni to avx2 (%s)",
            cpuFeatureNames(d.features).c_str());
  }
  {
    const CpuDispatch d = resolveCpuDispatch(sapphireRapids(), nullptr, "portable");
    t.check(d.error.empty() && d.features == CpuFeatures{}, "SBERT_CPU_FEATURES=portable: nothing");
  }
  {
    const CpuDispatch d = resolveCpuDispatch(sapphireRapids(), nullptr, "something-else");
    t.check(d.error.empty() && d.features == sapphireRapids(),
            "an unknown SBERT_CPU_FEATURES value caps nothing (as before)");
  }
  {
    const CpuDispatch d = resolveCpuDispatch(avx2Laptop(), "", "");
    t.check(d.error.empty() && d.features == avx2Laptop(), "empty values = unset");
  }
  t.check(cpuFeatureNames(CpuFeatures{}) == "none", "no features prints \"none\"");
  t.check(cpuFeatureNames(alderLake()) == "avx2 fma avx_vnni", "names follow /proc/cpuinfo (%s)",
          cpuFeatureNames(alderLake()).c_str());
}

// The real detection: extensions that imply others are only reported with them.
void checkDetection(Tally& t) {
  const CpuFeatures h = hardwareCpuFeatures();
  std::printf("# hardware: %s\n# active:   %s\n", cpuFeatureNames(h).c_str(),
              cpuFeatureNames(activeCpuFeatures()).c_str());
  t.check(!h.avx512vnni || h.avx512f, "avx512_vnni implies avx512f");
  t.check(!h.avx512bf16 || h.avx512f, "avx512_bf16 implies avx512f");
  t.check(!h.avxvnni || h.avx2, "avx_vnni implies avx2");
  t.check(!h.amxInt8 || h.amxTile, "amx_int8 implies amx_tile");
  t.check(!h.avx512f || h.avx2, "avx512f comes with avx2 (and its OS state)");
  t.check(cpuIsaOverrideError().empty(), "this process's SBERT_CPU_ISA is accepted: %s",
          cpuIsaOverrideError().empty() ? "(ok)" : cpuIsaOverrideError().c_str());
  const CpuFeatures& a = activeCpuFeatures();
  const CpuIsa want = a.avx2 && a.fma ? (a.avx512f ? CpuIsa::Avx512 : CpuIsa::Avx2) : CpuIsa::Portable;
  t.check(activeCpuIsa() == want, "fp32 level %s follows the active features", cpuIsaName(activeCpuIsa()));
  const bool tiles = enableAmxTiles();
  t.check(!tiles || a.amxTile, "enableAmxTiles() (%d) only with amx_tile active (%d)", int(tiles),
          int(a.amxTile));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--isas") == 0) {
    for (const char* isa : kIsas) {
      if (resolveCpuDispatch(hardwareCpuFeatures(), isa, nullptr).error.empty()) std::printf("%s\n", isa);
    }
    return 0;
  }
  Tally t;
  checkResolution(t);
  checkDetection(t);
  return t.finish();
}
