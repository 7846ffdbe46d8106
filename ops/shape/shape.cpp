// Differentiable views and data movement. Each op computes its result with the raw helpers of
// engine/ and records a backward written with the ops of this file.
#include "ops/shape/shape.h"

#include <algorithm>
#include <numeric>

#include "autograd/autograd.h"
#include "ops/reduce/reduce.h"

namespace sg {

using Grads = std::vector<Tensor>;
using Needs = std::vector<bool>;

Tensor reshape(const Tensor& x, const Shape& shape) {
  Tensor y = raw::reshape(x, shape);
  record("reshape", {x}, {y}, [s = x.shape()](const Grads& g, const Needs&) { return Grads{reshape(g[0], s)}; });
  return y;
}

Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim) {
  if (x.dim() == 0) return reshape(x, {1});
  int start = wrap_dim(start_dim, x.dim(), "flatten"), end = wrap_dim(end_dim, x.dim(), "flatten");
  SG_CHECK(start <= end, "flatten: start_dim ", start_dim, " after end_dim ", end_dim);
  Shape shape(x.shape().begin(), x.shape().begin() + start);
  shape.push_back(-1);
  if (x.numel() == 0) {
    shape.back() = 1;
    for (int d = start; d <= end; ++d) shape.back() *= x.shape()[d];
  }
  shape.insert(shape.end(), x.shape().begin() + end + 1, x.shape().end());
  return reshape(x, shape);
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  Tensor y = raw::permute(x, dims);
  record("permute", {x}, {y}, [dims, n = x.dim()](const Grads& g, const Needs&) {
    std::vector<int64_t> inverse(dims.size());
    for (size_t i = 0; i < dims.size(); ++i) inverse[wrap_dim(dims[i], n, "permute")] = int64_t(i);
    return Grads{permute(g[0], inverse)};
  });
  return y;
}

Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1) {
  return permute(x, raw::transpose_dims(x.dim(), dim0, dim1));
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  Tensor y = raw::narrow(x, dim, start, length);
  int d = wrap_dim(dim, x.dim(), "narrow");
  record("narrow", {x}, {y}, [d, start, length, n = x.dim(), size = x.shape()[d]](const Grads& g, const Needs&) {
    std::vector<int64_t> amounts(2 * n, 0);
    amounts[2 * (n - 1 - d)] = start;
    amounts[2 * (n - 1 - d) + 1] = size - start - length;
    return Grads{pad(g[0], amounts)};
  });
  return y;
}

Tensor select(const Tensor& x, int64_t dim, int64_t index) {
  int d = wrap_dim(dim, x.dim(), "select");
  SG_CHECK(index >= -x.shape()[d] && index < x.shape()[d], "select: index ", index, " out of range for dim ", d,
           " of size ", x.shape()[d]);
  if (index < 0) index += x.shape()[d];
  return squeeze(narrow(x, d, index, 1), d);
}

Tensor expand(const Tensor& x, const Shape& shape) {
  Tensor y = raw::expand(x, shape);
  record("expand", {x}, {y}, [s = x.shape()](const Grads& g, const Needs&) { return Grads{sum_to(g[0], s)}; });
  return y;
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  Tensor y = raw::unsqueeze(x, dim);
  record("unsqueeze", {x}, {y}, [s = x.shape()](const Grads& g, const Needs&) { return Grads{reshape(g[0], s)}; });
  return y;
}

Tensor squeeze(const Tensor& x, int64_t dim) {
  Tensor y = raw::squeeze(x, dim);
  record("squeeze", {x}, {y}, [s = x.shape()](const Grads& g, const Needs&) { return Grads{reshape(g[0], s)}; });
  return y;
}

Tensor contiguous(const Tensor& x) {
  if (x.is_contiguous()) return x;
  Tensor y = raw::clone(x);
  record("contiguous", {x}, {y}, [](const Grads& g, const Needs&) { return Grads{g[0]}; });
  return y;
}

Tensor cast(const Tensor& x, DType dtype) {
  if (x.dtype() == dtype) return x;
  Tensor y = raw::to(x, dtype, x.device());
  record("cast", {x}, {y}, [from = x.dtype()](const Grads& g, const Needs&) { return Grads{cast(g[0], from)}; });
  return y;
}

Tensor to_device(const Tensor& x, Device device) {
  if (x.device() == device) return x;
  Tensor y = raw::to(x, x.dtype(), device);
  record("to_device", {x}, {y}, [from = x.device()](const Grads& g, const Needs&) { return Grads{to_device(g[0], from)}; });
  return y;
}

Tensor cat(const std::vector<Tensor>& xs, int64_t dim) {
  SG_CHECK(!xs.empty(), "cat: expected at least one tensor");
  const Tensor& first = xs[0];
  int d = wrap_dim(dim, first.dim(), "cat");
  Shape shape = first.shape();
  shape[d] = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const Tensor& x = xs[i];
    SG_CHECK(x.dtype() == first.dtype() && x.device() == first.device(), "cat: tensor ", i, " is ", x.describe(),
             ", expected ", dtype_name(first.dtype()), " on ", device_name(first.device()));
    SG_CHECK(x.dim() == first.dim(), "cat: tensor ", i, " has shape ", shape_str(x.shape()), ", expected ",
             first.dim(), " dims like ", shape_str(first.shape()));
    for (int k = 0; k < x.dim(); ++k)
      SG_CHECK(k == d || x.shape()[k] == first.shape()[k], "cat: tensor ", i, " has shape ", shape_str(x.shape()),
               ", expected ", shape_str(first.shape()), " except in dim ", d);
    shape[d] += x.shape()[d];
  }
  Tensor y = Tensor::empty(shape, first.dtype(), first.device());
  std::vector<int64_t> sizes;
  int64_t offset = 0;
  for (const Tensor& x : xs) {
    raw::narrow(y, d, offset, x.shape()[d]).copy_(x);
    offset += x.shape()[d];
    sizes.push_back(x.shape()[d]);
  }
  record("cat", xs, {y}, [d, sizes](const Grads& g, const Needs& need) {
    Grads out(sizes.size());
    int64_t start = 0;
    for (size_t i = 0; i < sizes.size(); ++i) {
      if (need[i]) out[i] = narrow(g[0], d, start, sizes[i]);
      start += sizes[i];
    }
    return out;
  });
  return y;
}

Tensor stack(const std::vector<Tensor>& xs, int64_t dim) {
  SG_CHECK(!xs.empty(), "stack: expected at least one tensor");
  int d = wrap_dim(dim, xs[0].dim() + 1, "stack");
  std::vector<Tensor> expanded;
  for (const Tensor& x : xs) {
    SG_CHECK(x.shape() == xs[0].shape(), "stack: shapes differ, ", shape_str(xs[0].shape()), " and ",
             shape_str(x.shape()));
    expanded.push_back(unsqueeze(x, d));
  }
  return cat(expanded, d);
}

Tensor repeat(const Tensor& x, const Shape& repeats) {
  SG_CHECK(repeats.size() >= size_t(x.dim()), "repeat: got ", repeats.size(), " repeats for a tensor of ", x.dim(),
           " dims");
  size_t n = repeats.size(), lead = n - x.dim();
  // View x as [1, s0, 1, s1, ...], broadcast to [r0, s0, r1, s1, ...], then merge each pair.
  Shape interleaved, expanded, out_shape;
  for (size_t i = 0; i < n; ++i) {
    int64_t size = i < lead ? 1 : x.shape()[i - lead];
    SG_CHECK(repeats[i] >= 0, "repeat: negative repeat count in ", shape_str(repeats));
    interleaved.insert(interleaved.end(), {1, size});
    expanded.insert(expanded.end(), {repeats[i], size});
    out_shape.push_back(repeats[i] * size);
  }
  return reshape(contiguous(expand(reshape(x, interleaved), expanded)), out_shape);
}

namespace {

IndexParams index_params(const Shape& shape, int d, int64_t index_size) {
  IndexParams p{1, 1, shape[d], index_size};
  for (int k = 0; k < d; ++k) p.outer *= shape[k];
  for (size_t k = d + 1; k < shape.size(); ++k) p.inner *= shape[k];
  return p;
}

Tensor checked_index(const Tensor& index, int64_t limit, Device device, const char* name) {
  SG_CHECK(index.dtype() == DType::Int64 && index.dim() == 1, name, ": index must be a 1-D int64 tensor, got ",
           index.describe());
  Tensor host = raw::contiguous(raw::to(index, DType::Int64, Device::CPU));
  const int64_t* v = host.data<int64_t>();
  for (int64_t k = 0; k < host.numel(); ++k)
    SG_CHECK(v[k] >= 0 && v[k] < limit, name, ": index ", v[k], " out of range for size ", limit);
  return raw::to(host, DType::Int64, device);
}

}  // namespace

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  int d = wrap_dim(dim, x.dim(), "index_select");
  Tensor idx = checked_index(index, x.shape()[d], x.device(), "index_select");
  Shape shape = x.shape();
  shape[d] = idx.numel();
  IndexParams p = index_params(x.shape(), d, idx.numel());
  Tensor in = raw::contiguous(x);
  Tensor y;
  if (x.device() == Device::CPU && is_half(x.dtype())) {
    Tensor out = Tensor::empty(shape, DType::Float32, Device::CPU);
    index_select_cpu(out, raw::to(in, DType::Float32, Device::CPU), idx, p);
    y = raw::to(out, x.dtype(), Device::CPU);
  } else {
    y = Tensor::empty(shape, x.dtype(), x.device());
    x.is_cuda() ? index_select_cuda(y, in, idx, p) : index_select_cpu(y, in, idx, p);
  }
  record("index_select", {x}, {y}, [d, idx, s = x.shape()](const Grads& g, const Needs&) {
    return Grads{index_add(s, d, idx, g[0])};
  });
  return y;
}

Tensor index_add(const Shape& shape, int64_t dim, const Tensor& index, const Tensor& src) {
  int d = wrap_dim(dim, int(shape.size()), "index_add");
  Tensor idx = checked_index(index, shape[d], src.device(), "index_add");
  Shape expected = shape;
  expected[d] = idx.numel();
  SG_CHECK(src.shape() == expected, "index_add: source has shape ", shape_str(src.shape()), ", expected ",
           shape_str(expected));
  IndexParams p = index_params(shape, d, idx.numel());
  Tensor in = raw::contiguous(src);
  Tensor y;
  if (src.device() == Device::CPU && is_half(src.dtype())) {
    Tensor out = Tensor::zeros(shape, DType::Float32, Device::CPU);
    index_add_cpu(out, raw::to(in, DType::Float32, Device::CPU), idx, p);
    y = raw::to(out, src.dtype(), Device::CPU);
  } else {
    y = Tensor::zeros(shape, src.dtype(), src.device());
    src.is_cuda() ? index_add_cuda(y, in, idx, p) : index_add_cpu(y, in, idx, p);
  }
  record("index_add", {src}, {y}, [d, idx](const Grads& g, const Needs&) { return Grads{index_select(g[0], d, idx)}; });
  return y;
}

Tensor flip(const Tensor& x, const std::vector<int64_t>& dims) {
  Shape strides = x.strides();
  int64_t offset = x.offset();
  for (int64_t dim : dims) {
    int d = wrap_dim(dim, x.dim(), "flip");
    if (x.shape()[d] == 0) continue;
    offset += (x.shape()[d] - 1) * strides[d];
    strides[d] = -strides[d];
  }
  Tensor y = raw::clone(x.as_strided(x.shape(), strides, offset));
  record("flip", {x}, {y}, [dims](const Grads& g, const Needs&) { return Grads{flip(g[0], dims)}; });
  return y;
}

Tensor pad(const Tensor& x, const std::vector<int64_t>& amounts) {
  SG_CHECK(amounts.size() % 2 == 0 && amounts.size() <= size_t(2 * x.dim()), "pad: expected pairs of amounts for at most ",
           x.dim(), " dims, got ", amounts.size(), " values");
  Shape shape = x.shape();
  Tensor src = x;
  std::vector<int64_t> dst_start(x.dim(), 0);
  for (size_t k = 0; k < amounts.size() / 2; ++k) {
    int d = x.dim() - 1 - int(k);
    int64_t before = amounts[2 * k], after = amounts[2 * k + 1];
    shape[d] += before + after;
    SG_CHECK(shape[d] >= 0, "pad: padding ", before, ", ", after, " empties dim ", d, " of ", shape_str(x.shape()));
    int64_t crop_before = std::max<int64_t>(-before, 0), crop_after = std::max<int64_t>(-after, 0);
    int64_t kept = std::max<int64_t>(x.shape()[d] - crop_before - crop_after, 0);
    src = raw::narrow(src, d, std::min(crop_before, x.shape()[d]), kept);
    dst_start[d] = std::max<int64_t>(before, 0);
  }
  Tensor y = Tensor::zeros(shape, x.dtype(), x.device());
  Tensor window = y;
  for (int d = 0; d < x.dim(); ++d) window = raw::narrow(window, d, dst_start[d], src.shape()[d]);
  window.copy_(src);
  record("pad", {x}, {y}, [amounts](const Grads& g, const Needs&) {
    std::vector<int64_t> inverse(amounts.size());
    for (size_t i = 0; i < amounts.size(); ++i) inverse[i] = -amounts[i];
    return Grads{pad(g[0], inverse)};
  });
  return y;
}

}  // namespace sg
