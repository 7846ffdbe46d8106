#include "autograd/autograd.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "engine/nvtx.h"
// Accumulating two gradient contributions must itself be differentiable under create_graph, so
// the tape uses the differentiable add: the one place autograd/ depends on ops/.
#include "ops/elementwise/elementwise.h"
#include "ops/shape/shape.h"

namespace sg {

namespace {

thread_local bool grad_mode = true;

// The node that receives a leaf's gradient and adds it into the leaf's .grad.
class AccumulateGrad : public Node {
 public:
  explicit AccumulateGrad(std::shared_ptr<TensorImpl> leaf)
      : Node("AccumulateGrad", nullptr), leaf_(std::move(leaf)) {}
  void accumulate(const Tensor& incoming, bool create_graph) {
    AutogradMeta& meta = *leaf_->autograd;
    // Stored contiguous: optimizers read .grad as a dense buffer, while backward rules may
    // produce broadcast views.
    Tensor g = create_graph ? contiguous(incoming) : raw::contiguous(incoming.detach());
    if (!meta.grad.defined()) {
      meta.grad = g;
    } else {
      EnableGradGuard guard(create_graph);
      meta.grad = add(meta.grad, g);
    }
  }
  void release() override {}  // holds nothing that belongs to one graph

 private:
  std::shared_ptr<TensorImpl> leaf_;
};

AutogradMeta& ensure_meta(const Tensor& t) {
  auto& slot = t.impl().autograd;
  if (!slot) slot = std::make_shared<AutogradMeta>();
  return *slot;
}

Edge gradient_edge(const Tensor& t) {
  if (!t.defined()) return {};
  const auto& meta = t.impl().autograd;
  if (!meta) return {};
  if (meta->grad_fn) return {meta->grad_fn, meta->output_nr};
  if (!meta->requires_grad) return {};
  std::shared_ptr<Node> acc = meta->accumulator.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad>(t.impl_ptr());
    acc->outputs = {{t.shape(), t.dtype(), t.device()}};
    meta->accumulator = acc;
  }
  return {acc, 0};
}

struct EdgeHash {
  size_t operator()(const std::pair<Node*, int>& e) const {
    return std::hash<Node*>()(e.first) ^ (std::hash<int>()(e.second) << 1);
  }
};

// Nodes reachable from the roots, parents before children (reverse post-order of a DFS that
// uses an explicit stack, so deep graphs cannot overflow the call stack).
std::vector<Node*> topological_order(const std::vector<Edge>& roots) {
  std::vector<Node*> post_order;
  std::unordered_set<Node*> visited;
  std::vector<std::pair<Node*, size_t>> stack;
  for (const Edge& root : roots) {
    if (!root.valid() || visited.count(root.fn.get())) continue;
    visited.insert(root.fn.get());
    stack.push_back({root.fn.get(), 0});
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      if (next < node->next_edges.size()) {
        Node* child = node->next_edges[next++].fn.get();
        if (child && !visited.count(child)) {
          visited.insert(child);
          stack.push_back({child, 0});
        }
      } else {
        post_order.push_back(node);
        stack.pop_back();
      }
    }
  }
  std::reverse(post_order.begin(), post_order.end());
  return post_order;
}

Tensor zeros_for(const Node::OutputInfo& info) { return Tensor::zeros(info.shape, info.dtype, info.device); }

// Runs the graph below `roots`. In capture mode (targets given) the gradients reaching the
// target edges are returned and leaves are left alone; otherwise leaves accumulate into .grad.
std::vector<Tensor> run_backward(const std::vector<Edge>& roots, const std::vector<Tensor>& root_grads,
                                 bool keep_graph, bool create_graph, const std::vector<Edge>& targets) {
  NvtxRange range("autograd::backward");
  bool capture = !targets.empty();
  std::vector<Node*> order = topological_order(roots);

  std::unordered_map<std::pair<Node*, int>, std::vector<size_t>, EdgeHash> target_index;
  for (size_t i = 0; i < targets.size(); ++i)
    if (targets[i].valid()) target_index[{targets[i].fn.get(), targets[i].input_nr}].push_back(i);

  // A node is needed if it is a target or leads to one; in accumulate mode every node is.
  std::unordered_set<Node*> needed;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* node = *it;
    bool need = !capture;
    for (size_t i = 0; i < targets.size() && !need; ++i) need = targets[i].fn.get() == node;
    for (const Edge& e : node->next_edges) need = need || (e.fn && needed.count(e.fn.get()));
    if (need) needed.insert(node);
  }

  std::unordered_map<Node*, std::vector<Tensor>> buffers;
  auto add_to_buffer = [&](const Edge& e, const Tensor& g) {
    auto& buffer = buffers[e.fn.get()];
    if (buffer.empty()) buffer.resize(std::max<size_t>(e.fn->outputs.size(), 1));
    Tensor& slot = buffer[e.input_nr];
    if (!slot.defined()) {
      slot = g;
    } else {
      EnableGradGuard guard(create_graph);
      slot = add(slot, g);
    }
  };
  for (size_t i = 0; i < roots.size(); ++i)
    if (roots[i].valid()) add_to_buffer(roots[i], root_grads[i]);

  std::vector<Tensor> captured(targets.size());
  for (Node* node : order) {
    auto found = buffers.find(node);
    if (found == buffers.end()) continue;
    std::vector<Tensor> grad_outputs = std::move(found->second);
    buffers.erase(found);
    if (capture) {
      for (size_t nr = 0; nr < grad_outputs.size(); ++nr) {
        auto t = target_index.find({node, int(nr)});
        if (t == target_index.end() || !grad_outputs[nr].defined()) continue;
        for (size_t idx : t->second) captured[idx] = grad_outputs[nr];
      }
    }
    if (!needed.count(node)) continue;
    if (auto* acc = dynamic_cast<AccumulateGrad*>(node)) {
      if (!capture) acc->accumulate(grad_outputs[0], create_graph);
      continue;
    }
    for (size_t nr = 0; nr < grad_outputs.size(); ++nr)
      if (!grad_outputs[nr].defined()) grad_outputs[nr] = zeros_for(node->outputs[nr]);
    std::vector<bool> needs_input_grad(node->next_edges.size());
    for (size_t i = 0; i < needs_input_grad.size(); ++i) {
      const Edge& e = node->next_edges[i];
      needs_input_grad[i] = e.valid() && needed.count(e.fn.get());
    }
    std::vector<Tensor> input_grads;
    {
      NvtxRange node_range(node->name().c_str());
      EnableGradGuard guard(create_graph);
      input_grads = node->apply(grad_outputs, needs_input_grad);
    }
    SG_CHECK(input_grads.size() == node->next_edges.size(), "autograd: backward of ", node->name(),
             " returned ", input_grads.size(), " gradients for ", node->next_edges.size(), " inputs");
    for (size_t i = 0; i < input_grads.size(); ++i) {
      if (!needs_input_grad[i] || !input_grads[i].defined()) continue;
      const Edge& e = node->next_edges[i];
      const Node::OutputInfo& expected = e.fn->outputs[e.input_nr];
      SG_CHECK(input_grads[i].shape() == expected.shape && input_grads[i].dtype() == expected.dtype,
               "autograd: backward of ", node->name(), " gave input ", i, " a gradient ",
               input_grads[i].describe(), ", expected ", dtype_name(expected.dtype),
               shape_str(expected.shape));
      add_to_buffer(e, input_grads[i]);
    }
    if (!keep_graph) node->release();
  }
  return captured;
}

std::vector<Tensor> seed_gradients(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs,
                                   const char* api) {
  SG_CHECK(grad_outputs.empty() || grad_outputs.size() == outputs.size(), api, ": got ",
           grad_outputs.size(), " grad_outputs for ", outputs.size(), " outputs");
  std::vector<Tensor> seeds(outputs.size());
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& out = outputs[i];
    SG_CHECK(requires_grad(out), api, ": output ", i, " (", out.describe(),
             ") does not require grad and has no grad_fn");
    if (i < grad_outputs.size() && grad_outputs[i].defined()) {
      SG_CHECK(grad_outputs[i].shape() == out.shape(), api, ": grad_output ", i, " has shape ",
               shape_str(grad_outputs[i].shape()), ", expected ", shape_str(out.shape()));
      seeds[i] = grad_outputs[i];
    } else {
      SG_CHECK(out.numel() == 1, api, ": grad can be implicitly created only for scalar outputs, got ",
               out.describe());
      seeds[i] = Tensor::ones(out.shape(), out.dtype(), out.device());
    }
  }
  return seeds;
}

}  // namespace

std::vector<Tensor> Node::apply(const std::vector<Tensor>& grad_outputs, const std::vector<bool>& needs_input_grad) {
  SG_CHECK(!released_, "autograd: trying to backward through the graph of ", name_,
           " a second time, but its saved tensors were freed; pass retain_graph=true the first time");
  return backward_(grad_outputs, needs_input_grad);
}

void Node::release() {
  backward_ = nullptr;
  released_ = true;
}

bool grad_mode_enabled() { return grad_mode; }
void set_grad_mode(bool enabled) { grad_mode = enabled; }

bool requires_grad(const Tensor& t) {
  if (!t.defined()) return false;
  const auto& meta = t.impl().autograd;
  return meta && (meta->requires_grad || meta->grad_fn);
}

const Tensor& set_requires_grad(const Tensor& t, bool required) {
  AutogradMeta& meta = ensure_meta(t);
  SG_CHECK(!meta.grad_fn, "set_requires_grad: only leaf tensors can be changed; use detach() first");
  SG_CHECK(!required || is_floating(t.dtype()), "set_requires_grad: only floating tensors can require grad, got ",
           t.describe());
  meta.requires_grad = required;
  return t;
}

Tensor grad_of(const Tensor& t) {
  const auto& meta = t.impl().autograd;
  return meta ? meta->grad : Tensor();
}

void set_grad(const Tensor& t, const Tensor& grad) { ensure_meta(t).grad = grad; }
void zero_grad(const Tensor& t) {
  if (t.impl().autograd) t.impl().autograd->grad = Tensor();
}
bool is_leaf(const Tensor& t) { return !t.impl().autograd || !t.impl().autograd->grad_fn; }
std::shared_ptr<Node> grad_fn(const Tensor& t) {
  return t.impl().autograd ? t.impl().autograd->grad_fn : nullptr;
}

bool any_requires_grad(const std::vector<Tensor>& inputs) {
  if (!grad_mode) return false;
  for (const Tensor& t : inputs)
    if (requires_grad(t)) return true;
  return false;
}

void record(const char* name, const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs,
            BackwardFn backward) {
  if (!any_requires_grad(inputs)) return;
  auto node = std::make_shared<Node>(name, std::move(backward));
  for (const Tensor& in : inputs) node->next_edges.push_back(requires_grad(in) ? gradient_edge(in) : Edge{});
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& out = outputs[i];
    for (const Tensor& in : inputs)
      SG_CHECK(!in.defined() || !in.same(out), name, ": an op must return a new tensor handle, not its input");
    node->outputs.push_back({out.shape(), out.dtype(), out.device()});
    auto meta = std::make_shared<AutogradMeta>();
    meta->grad_fn = node;
    meta->output_nr = int(i);
    out.impl().autograd = meta;
  }
}

void backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs, bool retain_graph,
              bool create_graph) {
  std::vector<Tensor> seeds = seed_gradients(outputs, grad_outputs, "backward");
  std::vector<Edge> roots;
  for (const Tensor& out : outputs) roots.push_back(gradient_edge(out));
  run_backward(roots, seeds, retain_graph || create_graph, create_graph, {});
}

void backward(const Tensor& output, const Tensor& grad_output, bool retain_graph, bool create_graph) {
  backward(std::vector<Tensor>{output}, std::vector<Tensor>{grad_output}, retain_graph, create_graph);
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, GradOptions options) {
  std::vector<Tensor> seeds = seed_gradients(outputs, grad_outputs, "grad");
  std::vector<Edge> roots, targets;
  for (const Tensor& out : outputs) roots.push_back(gradient_edge(out));
  for (size_t i = 0; i < inputs.size(); ++i) {
    SG_CHECK(requires_grad(inputs[i]), "grad: input ", i, " (", inputs[i].describe(), ") does not require grad");
    targets.push_back(gradient_edge(inputs[i]));
  }
  bool keep = options.retain_graph < 0 ? options.create_graph : options.retain_graph != 0;
  std::vector<Tensor> result = run_backward(roots, seeds, keep, options.create_graph, targets);
  for (size_t i = 0; i < result.size(); ++i) {
    if (result[i].defined()) {
      if (!options.create_graph) result[i] = result[i].detach();
      continue;
    }
    SG_CHECK(options.allow_unused, "grad: input ", i, " (", inputs[i].describe(),
             ") was not used to compute the outputs; pass allow_unused");
  }
  return result;
}

}  // namespace sg
