#include "models/module.h"

#include <algorithm>

#include "autograd/autograd.h"

namespace sg {

Tensor& Module::register_parameter(const std::string& name, Tensor value) {
  sg::set_requires_grad(value, true);
  entries_.push_back({name, std::make_unique<Tensor>(std::move(value)), false});
  return *entries_.back().tensor;
}

Tensor& Module::register_buffer(const std::string& name, Tensor value) {
  entries_.push_back({name, std::make_unique<Tensor>(std::move(value)), true});
  return *entries_.back().tensor;
}

void Module::collect(const std::string& prefix, bool with_buffers, std::vector<std::pair<std::string, Tensor*>>& out) {
  for (Entry& e : entries_)
    if (with_buffers || !e.is_buffer) out.push_back({prefix + e.name, e.tensor.get()});
  for (auto& [name, child] : children_) child->collect(prefix + name + ".", with_buffers, out);
}

std::vector<std::pair<std::string, Tensor*>> Module::named_parameters() {
  std::vector<std::pair<std::string, Tensor*>> out;
  collect("", false, out);
  return out;
}

std::vector<std::pair<std::string, Tensor*>> Module::named_buffers() {
  auto all = named_state();
  auto params = named_parameters();
  std::vector<std::pair<std::string, Tensor*>> out;
  for (auto& entry : all)
    if (std::none_of(params.begin(), params.end(), [&](const auto& p) { return p.second == entry.second; }))
      out.push_back(entry);
  return out;
}

std::vector<Tensor> Module::parameters() {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters()) out.push_back(*t);
  return out;
}

std::vector<std::pair<std::string, Tensor*>> Module::named_state() {
  std::vector<std::pair<std::string, Tensor*>> out;
  collect("", true, out);
  return out;
}

std::map<std::string, Tensor> Module::state_dict() {
  std::map<std::string, Tensor> out;
  for (auto& [name, t] : named_state()) out[name] = t->detach();
  return out;
}

void Module::load_state_dict(const std::map<std::string, Tensor>& state, bool strict) {
  auto own = named_state();
  std::map<std::string, Tensor*> by_name(own.begin(), own.end());
  for (const auto& [name, value] : state) {
    auto it = by_name.find(name);
    if (it == by_name.end()) {
      SG_CHECK(!strict, "load_state_dict: unexpected key '", name, "'");
      continue;
    }
    // A scalar parameter may be stored as [1] (some exporters cannot write 0-d tensors).
    bool scalar_alias = value.numel() == 1 && it->second->numel() == 1 && (value.dim() <= 1 && it->second->dim() <= 1);
    SG_CHECK(it->second->shape() == value.shape() || scalar_alias, "load_state_dict: '", name, "' has shape ",
             shape_str(value.shape()), ", expected ", shape_str(it->second->shape()));
    it->second->copy_(scalar_alias ? raw::reshape(value, it->second->shape()) : value);
  }
  if (strict)
    for (const auto& [name, t] : own) SG_CHECK(state.count(name), "load_state_dict: missing key '", name, "'");
}

int64_t Module::num_parameters() {
  int64_t n = 0;
  for (auto& [name, t] : named_parameters()) n += t->numel();
  return n;
}

void Module::to(Device device) {
  for (Entry& e : entries_) {
    if (e.tensor->device() == device) continue;
    *e.tensor = raw::to(*e.tensor, e.tensor->dtype(), device);
    if (!e.is_buffer) sg::set_requires_grad(*e.tensor, true);
  }
  for (auto& [name, child] : children_) child->to(device);
}

void Module::set_requires_grad(bool required) {
  for (auto& [name, t] : named_parameters()) sg::set_requires_grad(*t, required);
}

void Module::zero_grad() {
  for (auto& [name, t] : named_parameters()) sg::zero_grad(*t);
}

void Module::train(bool training) {
  training_ = training;
  for (auto& [name, child] : children_) child->train(training);
}

}  // namespace sg
