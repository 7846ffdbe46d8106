// Module: the small container behind every network. It names its parameters, buffers and
// children so that state dicts carry the official key names ("synthesis.b8.conv0.affine.weight").
// Members are registered by pointer, so a module is neither copied nor moved after construction.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace sg {

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Trainable parameters (leaf tensors that require grad), full dotted names.
  std::vector<std::pair<std::string, Tensor*>> named_parameters();
  std::vector<Tensor> parameters();
  // Buffers only (not trained: filters, noise constants, running averages).
  std::vector<std::pair<std::string, Tensor*>> named_buffers();
  // Parameters and buffers: the state dict.
  std::vector<std::pair<std::string, Tensor*>> named_state();
  std::map<std::string, Tensor> state_dict();
  // Copies values by name. Missing or unexpected keys and shape mismatches are errors naming the
  // key, unless `strict` is false (then only keys present on both sides are copied).
  void load_state_dict(const std::map<std::string, Tensor>& state, bool strict = true);
  int64_t num_parameters();

  // Moves every parameter and buffer (parameters stay leaves that require grad).
  void to(Device device);
  void set_requires_grad(bool required);
  void zero_grad();
  void train(bool training = true);
  void eval() { train(false); }
  bool training() const { return training_; }

 protected:
  Tensor& register_parameter(const std::string& name, Tensor value);
  Tensor& register_buffer(const std::string& name, Tensor value);
  template <class M>
  M& register_module(const std::string& name, std::unique_ptr<M> module) {
    M& ref = *module;
    children_.push_back({name, std::move(module)});
    return ref;
  }

 private:
  void collect(const std::string& prefix, bool with_buffers, std::vector<std::pair<std::string, Tensor*>>& out);

  struct Entry {
    std::string name;
    std::unique_ptr<Tensor> tensor;
    bool is_buffer;
  };
  std::vector<Entry> entries_;
  std::vector<std::pair<std::string, std::unique_ptr<Module>>> children_;
  bool training_ = true;
};

}  // namespace sg
