// CPU reference loops of grid_sample and of its input gradient.
#include <cstring>

#include "ops/grid_sample/grid_sample.h"
#include "ops/grid_sample/grid_sample_math.h"

namespace sg {

void grid_sample_forward_cpu(const Tensor& out, const Tensor& x, const Tensor& grid, const GridSampleShape& s) {
  SG_DISPATCH_FLOAT_CPU(x.dtype(), "grid_sample", [&] {
    const scalar_t *px = x.data<scalar_t>(), *pg = grid.data<scalar_t>();
    scalar_t* po = out.data<scalar_t>();
    for (int64_t n = 0; n < s.N; ++n)
      for (int64_t p = 0; p < s.Ho * s.Wo; ++p) {
        const scalar_t* g = pg + (n * s.Ho * s.Wo + p) * 2;
        Bilinear<scalar_t> b = bilinear_footprint<scalar_t>(g[0], g[1], s.H, s.W);
        for (int64_t c = 0; c < s.C; ++c) {
          const scalar_t* plane = px + (n * s.C + c) * s.H * s.W;
          scalar_t acc = 0;
          for (int k = 0; k < 4; ++k)
            if (b.index[k] >= 0) acc += plane[b.index[k]] * b.weight[k];
          po[(n * s.C + c) * s.Ho * s.Wo + p] = acc;
        }
      }
  });
}

void grid_sample_backward_cpu(const Tensor& dx, const Tensor& dy, const Tensor& grid, const GridSampleShape& s) {
  SG_DISPATCH_FLOAT_CPU(dy.dtype(), "grid_sample_backward", [&] {
    const scalar_t *pdy = dy.data<scalar_t>(), *pg = grid.data<scalar_t>();
    scalar_t* pdx = dx.data<scalar_t>();
    std::memset(pdx, 0, dx.numel() * sizeof(scalar_t));
    for (int64_t n = 0; n < s.N; ++n)
      for (int64_t p = 0; p < s.Ho * s.Wo; ++p) {
        const scalar_t* g = pg + (n * s.Ho * s.Wo + p) * 2;
        Bilinear<scalar_t> b = bilinear_footprint<scalar_t>(g[0], g[1], s.H, s.W);
        for (int64_t c = 0; c < s.C; ++c) {
          scalar_t v = pdy[(n * s.C + c) * s.Ho * s.Wo + p];
          scalar_t* plane = pdx + (n * s.C + c) * s.H * s.W;
          for (int k = 0; k < 4; ++k)
            if (b.index[k] >= 0) plane[b.index[k]] += v * b.weight[k];
        }
      }
  });
}

}  // namespace sg
