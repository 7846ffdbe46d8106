#include "engine/tensor.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <numeric>
#include <sstream>

#include "engine/allocator.h"
#include "engine/copy.h"
#include "engine/cuda_check.h"
#include "engine/strided.h"

namespace sg {

std::string shape_str(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  int64_t stride = 1;
  for (int d = int(shape.size()) - 1; d >= 0; --d) {
    strides[d] = stride;
    stride *= std::max<int64_t>(shape[d], 1);
  }
  return strides;
}

int wrap_dim(int64_t dim, int ndim, const char* op_name) {
  int64_t wrapped = dim < 0 ? dim + ndim : dim;
  // No dim is valid for a 0-d tensor: callers index the shape with the result.
  SG_CHECK(wrapped >= 0 && wrapped < ndim, op_name, ": dim ", dim, " out of range for a tensor of ", ndim, " dims");
  return int(wrapped);
}

StridedLayout make_layout(const Tensor& t, const Shape& shape, const char* op_name) {
  SG_CHECK(int(shape.size()) <= kMaxDims, op_name, ": at most ", kMaxDims, " dims supported, got ",
           shape.size());
  SG_CHECK(t.dim() <= int(shape.size()), op_name, ": cannot broadcast ", shape_str(t.shape()),
           " to ", shape_str(shape));
  StridedLayout layout;
  layout.ndim = int(shape.size());
  layout.offset = t.offset();
  int lead = int(shape.size()) - t.dim();
  for (int d = 0; d < layout.ndim; ++d) {
    layout.sizes[d] = shape[d];
    if (d < lead) {
      layout.strides[d] = 0;
      continue;
    }
    int64_t own = t.shape()[d - lead];
    SG_CHECK(own == shape[d] || own == 1, op_name, ": cannot broadcast ", shape_str(t.shape()),
             " to ", shape_str(shape));
    layout.strides[d] = own == 1 ? 0 : t.strides()[d - lead];
  }
  return layout;
}

Storage::Storage(size_t nbytes, Device device)
    : data_(allocate(nbytes, device)), nbytes_(nbytes), device_(device) {}
Storage::~Storage() { deallocate(data_, nbytes_, device_); }

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  for (int64_t s : shape) SG_CHECK(s >= 0, "empty: negative size in shape ", shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(shape_numel(shape) * dtype_size(dtype), device);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.fill_(value);
  return t;
}
Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) { return full(shape, 0, dtype, device); }
Tensor Tensor::ones(const Shape& shape, DType dtype, Device device) { return full(shape, 1, dtype, device); }
Tensor Tensor::scalar(double value, DType dtype, Device device) { return full({}, value, dtype, device); }

Tensor Tensor::from_vector(const std::vector<double>& values, const Shape& shape, DType dtype,
                           Device device) {
  SG_CHECK(int64_t(values.size()) == shape_numel(shape), "from_vector: ", values.size(),
           " values for shape ", shape_str(shape));
  Tensor host = empty(shape, DType::Float64, Device::CPU);
  std::copy(values.begin(), values.end(), host.data<double>());
  return raw::to(host, dtype, device);
}

Tensor Tensor::arange(int64_t n, DType dtype, Device device) {
  std::vector<double> values(n);
  std::iota(values.begin(), values.end(), 0.0);
  return from_vector(values, {n}, dtype, device);
}

int64_t Tensor::size(int64_t d) const { return shape()[wrap_dim(d, dim(), "size")]; }
int64_t Tensor::stride(int64_t d) const { return strides()[wrap_dim(d, dim(), "stride")]; }

bool Tensor::is_contiguous() const {
  int64_t expected = 1;
  for (int d = dim() - 1; d >= 0; --d) {
    if (shape()[d] == 1) continue;
    if (strides()[d] != expected) return false;
    expected *= shape()[d];
  }
  return true;
}

void* Tensor::data_ptr() const {
  return static_cast<char*>(storage()->data()) + offset() * int64_t(dtype_size(dtype()));
}

Tensor Tensor::as_strided(const Shape& shape, const Shape& strides, int64_t offset) const {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = storage();
  impl->shape = shape;
  impl->strides = strides;
  impl->offset = offset;
  impl->dtype = dtype();
  return Tensor(std::move(impl));
}

void Tensor::copy_(const Tensor& src) const {
  SG_CHECK(shape() == src.shape(), "copy_: shape mismatch, destination ", shape_str(shape()),
           " and source ", shape_str(src.shape()));
  if (numel() == 0) return;
  if (device() == src.device()) {
    if (device() == Device::CPU)
      copy_strided_cpu(*this, src);
    else
      copy_strided_cuda(*this, src);
    return;
  }
  // Across devices: stage a contiguous copy in the source dtype, then convert on the destination.
  Tensor packed = raw::contiguous(src);
  Tensor staged = empty(src.shape(), src.dtype(), device());
  size_t bytes = size_t(packed.numel()) * dtype_size(src.dtype());
  if (device() == Device::CUDA) {
    copy_host_to_device(staged.data_ptr(), packed.data_ptr(), bytes);
  } else {
    CUDA_CHECK(cudaMemcpyAsync(staged.data_ptr(), packed.data_ptr(), bytes, cudaMemcpyDeviceToHost, current_stream()));
    CUDA_CHECK(cudaStreamSynchronize(current_stream()));
  }
  copy_(staged);
}

void Tensor::fill_(double value) const {
  if (numel() == 0) return;
  if (device() == Device::CPU)
    fill_cpu(*this, value);
  else
    fill_cuda(*this, value);
}

std::vector<double> Tensor::to_vector() const {
  Tensor host = raw::to(*this, DType::Float64, Device::CPU);
  host = raw::contiguous(host);
  const double* p = host.data<double>();
  return std::vector<double>(p, p + host.numel());
}

double Tensor::item() const {
  SG_CHECK(numel() == 1, "item: expected a tensor with one element, got shape ", shape_str(shape()));
  return to_vector()[0];
}

std::string Tensor::describe() const {
  if (!defined()) return "undefined tensor";
  return str_cat(dtype_name(dtype()), shape_str(shape()), " on ", device_name(device()));
}

std::string Tensor::to_string(int max_per_dim) const {
  max_per_dim = std::max(max_per_dim, 2);  // the elision below keeps max_per_dim / 2 at each end
  std::ostringstream out;
  out << describe() << "\n";
  std::vector<double> v = to_vector();
  Shape shape = this->shape();
  Shape strides = contiguous_strides(shape);
  out << std::setprecision(6);
  // Recursive print over dims, eliding the middle of long dims.
  auto print = [&](auto&& self, int d, int64_t base) -> void {
    if (d == dim()) {
      out << v[base];
      return;
    }
    out << "[";
    int64_t n = shape[d];
    for (int64_t i = 0; i < n; ++i) {
      if (n > max_per_dim && i == max_per_dim / 2) {
        out << "..., ";
        i = n - max_per_dim / 2;
      }
      self(self, d + 1, base + i * strides[d]);
      if (i + 1 < n) out << (d + 1 == dim() ? ", " : ",\n");
    }
    out << "]";
  };
  if (numel() > 0) print(print, 0, 0);
  return out.str();
}

std::ostream& operator<<(std::ostream& out, const Tensor& t) { return out << t.describe(); }

namespace raw {

Tensor contiguous(const Tensor& x) {
  if (x.is_contiguous()) return x;
  return clone(x);
}

Tensor clone(const Tensor& x) {
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  out.copy_(x);
  return out;
}

Tensor to(const Tensor& x, DType dtype, Device device) {
  if (x.dtype() == dtype && x.device() == device) return x;
  Tensor out = Tensor::empty(x.shape(), dtype, device);
  out.copy_(x);
  return out;
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  SG_CHECK(int(dims.size()) == x.dim(), "permute: got ", dims.size(), " dims for a tensor of ",
           x.dim(), " dims");
  Shape shape(dims.size()), strides(dims.size());
  std::vector<bool> seen(dims.size(), false);
  for (size_t i = 0; i < dims.size(); ++i) {
    int d = wrap_dim(dims[i], x.dim(), "permute");
    SG_CHECK(!seen[d], "permute: dim ", d, " repeated");
    seen[d] = true;
    shape[i] = x.shape()[d];
    strides[i] = x.strides()[d];
  }
  return x.as_strided(shape, strides, x.offset());
}

std::vector<int64_t> transpose_dims(int ndim, int64_t dim0, int64_t dim1) {
  std::vector<int64_t> dims(ndim);
  std::iota(dims.begin(), dims.end(), 0);
  std::swap(dims[wrap_dim(dim0, ndim, "transpose")], dims[wrap_dim(dim1, ndim, "transpose")]);
  return dims;
}

Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1) { return permute(x, transpose_dims(x.dim(), dim0, dim1)); }

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  int d = wrap_dim(dim, x.dim(), "narrow");
  SG_CHECK(start >= 0 && length >= 0 && start + length <= x.shape()[d], "narrow: range [", start,
           ", ", start + length, ") out of bounds for dim ", d, " of size ", x.shape()[d]);
  Shape shape = x.shape();
  shape[d] = length;
  return x.as_strided(shape, x.strides(), x.offset() + start * x.strides()[d]);
}

Tensor expand(const Tensor& x, const Shape& shape) {
  SG_CHECK(shape.size() >= size_t(x.dim()), "expand: cannot expand ", shape_str(x.shape()), " to ",
           shape_str(shape));
  Shape out_shape(shape.size()), strides(shape.size());
  int lead = int(shape.size()) - x.dim();
  for (int d = 0; d < int(shape.size()); ++d) {
    if (d < lead) {
      SG_CHECK(shape[d] >= 0, "expand: size -1 not allowed for new leading dim in ", shape_str(shape));
      out_shape[d] = shape[d];
      strides[d] = 0;
      continue;
    }
    int64_t own = x.shape()[d - lead];
    int64_t want = shape[d] == -1 ? own : shape[d];
    SG_CHECK(own == want || own == 1, "expand: cannot expand ", shape_str(x.shape()), " to ",
             shape_str(shape));
    out_shape[d] = want;
    strides[d] = own == want ? x.strides()[d - lead] : 0;
  }
  return x.as_strided(out_shape, strides, x.offset());
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  int d = wrap_dim(dim, x.dim() + 1, "unsqueeze");
  Shape shape = x.shape(), strides = x.strides();
  int64_t stride = d < x.dim() ? x.strides()[d] * x.shape()[d] : 1;
  shape.insert(shape.begin() + d, 1);
  strides.insert(strides.begin() + d, stride);
  return x.as_strided(shape, strides, x.offset());
}

Tensor squeeze(const Tensor& x, int64_t dim) {
  int d = wrap_dim(dim, x.dim(), "squeeze");
  SG_CHECK(x.shape()[d] == 1, "squeeze: dim ", d, " has size ", x.shape()[d], ", expected 1");
  Shape shape = x.shape(), strides = x.strides();
  shape.erase(shape.begin() + d);
  strides.erase(strides.begin() + d);
  return x.as_strided(shape, strides, x.offset());
}

Shape infer_shape(const Shape& shape, int64_t numel, const char* op_name) {
  Shape out = shape;
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      SG_CHECK(infer < 0, op_name, ": only one -1 allowed in ", shape_str(shape));
      infer = int(i);
    } else {
      SG_CHECK(out[i] >= 0, op_name, ": invalid size in ", shape_str(shape));
      known *= out[i];
    }
  }
  if (infer >= 0) {
    SG_CHECK(known > 0 && numel % known == 0, op_name, ": cannot infer -1 in ", shape_str(shape),
             " for ", numel, " elements");
    out[infer] = numel / known;
  }
  SG_CHECK(shape_numel(out) == numel, op_name, ": shape ", shape_str(shape), " is invalid for ",
           numel, " elements");
  return out;
}

// Strides for viewing x as `shape` without a copy, or empty when impossible. Works by matching
// runs of dims of x that are contiguous among themselves (the rule PyTorch's view uses).
static bool view_strides(const Tensor& x, const Shape& shape, Shape& strides) {
  strides.assign(shape.size(), 0);
  if (x.numel() <= 1) {
    strides = contiguous_strides(shape);
    return true;
  }
  int view_d = int(shape.size()) - 1;
  int64_t chunk_base_stride = x.dim() ? x.strides().back() : 1;
  int64_t tensor_numel = 1, view_numel = 1;
  for (int d = x.dim() - 1; d >= 0; --d) {
    tensor_numel *= x.shape()[d];
    if (d == 0 || (x.shape()[d - 1] != 1 && x.strides()[d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
        strides[view_d] = view_numel * chunk_base_stride;
        view_numel *= shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return false;
      if (d > 0) {
        chunk_base_stride = x.strides()[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  return view_d == -1;
}

Tensor reshape(const Tensor& x, const Shape& shape) {
  Shape out_shape = infer_shape(shape, x.numel(), "reshape");
  Shape strides;
  if (view_strides(x, out_shape, strides)) return x.as_strided(out_shape, strides, x.offset());
  Tensor packed = clone(x);
  return packed.as_strided(out_shape, contiguous_strides(out_shape), 0);
}

}  // namespace raw
}  // namespace sg
