#include "engine/strided.h"

namespace sg {

void coalesce_layouts(StridedLayout* layouts, int count) {
  const int ndim = layouts[0].ndim;
  int kept = 0;
  for (int d = 0; d < ndim; ++d) {
    const int64_t size = layouts[0].sizes[d];
    if (size == 1) continue;
    bool merges = kept > 0;
    for (int k = 0; k < count && merges; ++k)
      merges = layouts[k].strides[kept - 1] == layouts[k].strides[d] * size;
    for (int k = 0; k < count; ++k) {
      StridedLayout& l = layouts[k];
      if (merges) {
        l.sizes[kept - 1] *= size;
        l.strides[kept - 1] = l.strides[d];
      } else {
        l.sizes[kept] = size;
        l.strides[kept] = l.strides[d];
      }
    }
    if (!merges) ++kept;
  }
  for (int k = 0; k < count; ++k) {
    for (int d = kept; d < ndim; ++d) layouts[k].sizes[d] = layouts[k].strides[d] = 0;
    layouts[k].ndim = kept;
  }
}

bool fits_index_map32(const StridedLayout* layouts, int count) {
  constexpr int64_t kLimit = int64_t(1) << 31;
  int64_t n = 1;
  for (int d = 0; d < layouts[0].ndim; ++d) n *= layouts[0].sizes[d];
  if (n >= kLimit) return false;
  for (int k = 0; k < count; ++k) {
    int64_t last = 0;
    for (int d = 0; d < layouts[k].ndim; ++d) {
      if (layouts[k].strides[d] < 0) return false;
      last += (layouts[k].sizes[d] - 1) * layouts[k].strides[d];
    }
    if (last >= kLimit) return false;
  }
  return true;
}

}  // namespace sg
