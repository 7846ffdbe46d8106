// Tensor: a strided view (shape, strides in elements, offset) of shared storage on one device.
// Layout convention for images is NCHW throughout the project.
//
// This layer knows nothing of autograd: the functions here never record gradients. Differentiable
// versions of views, casts and copies live in ops/ and are what model code calls. The only
// autograd hook is an opaque AutogradMeta slot that autograd/ fills in.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/device.h"
#include "engine/dtype.h"
#include "engine/error.h"

namespace sg {

using Shape = std::vector<int64_t>;

std::string shape_str(const Shape& shape);
int64_t shape_numel(const Shape& shape);
Shape contiguous_strides(const Shape& shape);
// Wraps a possibly negative dim into [0, ndim); names the op in the error (a 0-d tensor has none).
int wrap_dim(int64_t dim, int ndim, const char* op_name);

class Storage {
 public:
  Storage(size_t nbytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

 private:
  void* data_;
  size_t nbytes_;
  Device device_;
};

struct AutogradMeta;  // defined in autograd/

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Shape strides;
  int64_t offset = 0;
  DType dtype = DType::Float32;
  std::shared_ptr<AutogradMeta> autograd;
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  static Tensor empty(const Shape& shape, DType dtype = DType::Float32, Device device = Device::CPU);
  static Tensor zeros(const Shape& shape, DType dtype = DType::Float32, Device device = Device::CPU);
  static Tensor ones(const Shape& shape, DType dtype = DType::Float32, Device device = Device::CPU);
  static Tensor full(const Shape& shape, double value, DType dtype = DType::Float32,
                     Device device = Device::CPU);
  static Tensor scalar(double value, DType dtype = DType::Float32, Device device = Device::CPU);
  // Values are converted to dtype; values.size() must equal the shape's element count.
  static Tensor from_vector(const std::vector<double>& values, const Shape& shape,
                            DType dtype = DType::Float32, Device device = Device::CPU);
  static Tensor arange(int64_t n, DType dtype = DType::Float32, Device device = Device::CPU);

  bool defined() const { return impl_ != nullptr; }
  int dim() const { return int(impl().shape.size()); }
  const Shape& shape() const { return impl().shape; }
  int64_t size(int64_t d) const;
  const Shape& strides() const { return impl().strides; }
  int64_t stride(int64_t d) const;
  int64_t offset() const { return impl().offset; }
  int64_t numel() const { return shape_numel(impl().shape); }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().storage->device(); }
  bool is_cuda() const { return device() == Device::CUDA; }
  bool is_contiguous() const;
  const std::shared_ptr<Storage>& storage() const { return impl().storage; }

  void* data_ptr() const;
  template <class T>
  T* data() const {
    SG_CHECK(dtype_of<T>::value == dtype(), "data<", dtype_name(dtype_of<T>::value),
             ">() on a ", dtype_name(dtype()), " tensor");
    return static_cast<T*>(data_ptr());
  }

  // A new view of the same storage. The result has no autograd history.
  Tensor as_strided(const Shape& shape, const Shape& strides, int64_t offset) const;
  // The same view without autograd history (shares storage).
  Tensor detach() const { return as_strided(shape(), strides(), offset()); }

  // Copies src into this tensor's elements (shapes must match; dtype and device may differ).
  void copy_(const Tensor& src) const;
  void fill_(double value) const;

  double item() const;
  std::vector<double> to_vector() const;  // row-major values as double, from any device
  std::string describe() const;           // e.g. "float32[2, 3] on cuda"
  std::string to_string(int max_per_dim = 6) const;  // long dims elided to max_per_dim (at least 2)

  bool same(const Tensor& other) const { return impl_ == other.impl_; }
  TensorImpl& impl() const {
    SG_CHECK(impl_ != nullptr, "use of an undefined tensor");
    return *impl_;
  }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// Raw (non-differentiable) helpers used by op implementations.
namespace raw {
Tensor contiguous(const Tensor& x);              // x itself if already contiguous
Tensor to(const Tensor& x, DType dtype, Device device);  // x itself if nothing changes
Tensor clone(const Tensor& x);                   // always a fresh contiguous copy
// Views; each throws a clear error when the view is impossible.
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims);
Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1);
// The permutation that swaps dim0 and dim1 of an ndim-dimensional tensor.
std::vector<int64_t> transpose_dims(int ndim, int64_t dim0, int64_t dim1);
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);
Tensor expand(const Tensor& x, const Shape& shape);  // numpy broadcasting rules; -1 keeps a size
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor squeeze(const Tensor& x, int64_t dim);
// A view when the strides allow one, else a contiguous copy. One -1 entry is inferred.
Tensor reshape(const Tensor& x, const Shape& shape);
Shape infer_shape(const Shape& shape, int64_t numel, const char* op_name);
}  // namespace raw

std::ostream& operator<<(std::ostream& out, const Tensor& t);  // prints describe()

}  // namespace sg
