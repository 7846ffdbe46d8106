// NVTX ranges so that an Nsight Systems timeline reads like the code: every op launcher and every
// training phase opens one. On by default; SG_NVTX=0 turns them off (one branch per range).
#pragma once
#include <nvtx3/nvToolsExt.h>

namespace sg {

bool nvtx_enabled();

class NvtxRange {
 public:
  explicit NvtxRange(const char* name) : active_(nvtx_enabled()) {
    if (active_) nvtxRangePushA(name);
  }
  ~NvtxRange() {
    if (active_) nvtxRangePop();
  }
  NvtxRange(const NvtxRange&) = delete;
  NvtxRange& operator=(const NvtxRange&) = delete;

 private:
  bool active_;
};

}  // namespace sg
