// Tape-based reverse-mode autograd.
//
// A tensor that needs a gradient carries AutogradMeta: either it is a leaf (requires_grad set by
// the user, gradient accumulated into .grad) or it is the output of a recorded op (grad_fn). Ops
// record a Node only when grad mode is on and some input requires a gradient. A Node's backward
// is a function written with differentiable ops, so running it with grad mode on (create_graph)
// records the backward itself and gradients of gradients work.
//
// Gradient-write contract: backward() ACCUMULATES into each leaf's .grad (micro-batches and G/D
// alternation rely on it; zero grads yourself). grad() returns gradients and never touches .grad.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace sg {

class Node;

// Where a gradient flows: output `input_nr` of node `fn` (for a leaf, its AccumulateGrad node).
struct Edge {
  std::shared_ptr<Node> fn;
  int input_nr = 0;
  bool valid() const { return fn != nullptr; }
};

struct AutogradMeta {
  bool requires_grad = false;
  Tensor grad;
  std::shared_ptr<Node> grad_fn;  // null for leaves
  int output_nr = 0;
  std::weak_ptr<Node> accumulator;  // a leaf's AccumulateGrad, created on first use
};

// Backward of a node: given the gradient of each output, returns the gradient of each input
// (undefined where needs_input_grad is false or the input gets no gradient).
using BackwardFn = std::function<std::vector<Tensor>(const std::vector<Tensor>& grad_outputs,
                                                     const std::vector<bool>& needs_input_grad)>;

class Node : public std::enable_shared_from_this<Node> {
 public:
  Node(std::string name, BackwardFn backward) : name_(std::move(name)), backward_(std::move(backward)) {}
  virtual ~Node() = default;
  const std::string& name() const { return name_; }
  std::vector<Edge> next_edges;  // one per input of the op
  struct OutputInfo {
    Shape shape;
    DType dtype;
    Device device;
  };
  std::vector<OutputInfo> outputs;  // to build zero gradients for outputs that got none

  virtual std::vector<Tensor> apply(const std::vector<Tensor>& grad_outputs,
                                    const std::vector<bool>& needs_input_grad);
  // Drops what the backward captured; applying a released node is an error.
  virtual void release();
  bool released() const { return released_; }

 protected:
  std::string name_;
  BackwardFn backward_;
  bool released_ = false;
};

// Grad mode (thread-local). NoGradGuard turns recording off in a scope.
bool grad_mode_enabled();
void set_grad_mode(bool enabled);
class NoGradGuard {
 public:
  NoGradGuard() : previous_(grad_mode_enabled()) { set_grad_mode(false); }
  ~NoGradGuard() { set_grad_mode(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};
class EnableGradGuard {
 public:
  explicit EnableGradGuard(bool enabled) : previous_(grad_mode_enabled()) { set_grad_mode(enabled); }
  ~EnableGradGuard() { set_grad_mode(previous_); }
  EnableGradGuard(const EnableGradGuard&) = delete;
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;

 private:
  bool previous_;
};

// Leaf flags and gradient access.
bool requires_grad(const Tensor& t);
// Makes t a leaf that requires (or not) a gradient. t must not have a grad_fn.
const Tensor& set_requires_grad(const Tensor& t, bool required = true);
Tensor grad_of(const Tensor& t);
void set_grad(const Tensor& t, const Tensor& grad);
void zero_grad(const Tensor& t);  // drops the accumulated gradient
bool is_leaf(const Tensor& t);
std::shared_ptr<Node> grad_fn(const Tensor& t);

// True when grad mode is on and any of the tensors requires a gradient.
bool any_requires_grad(const std::vector<Tensor>& inputs);
// Records `backward` as the node producing `outputs` from `inputs`, if any_requires_grad(inputs).
// Inputs may be undefined tensors (optional arguments). Call after computing the outputs.
void record(const char* name, const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs,
            BackwardFn backward);

// Backpropagates from `outputs` (seeded with `grad_outputs`, or ones for scalars) and
// accumulates into the .grad of every leaf reached.
void backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs = {},
              bool retain_graph = false, bool create_graph = false);
void backward(const Tensor& output, const Tensor& grad_output = Tensor(), bool retain_graph = false,
              bool create_graph = false);

// Gradients of `outputs` with respect to `inputs` (leaves or intermediate tensors). With
// create_graph the returned gradients are differentiable; retain_graph defaults to create_graph.
// An input that does not influence the outputs gets an undefined tensor if allow_unused, else an
// error.
struct GradOptions {
  bool create_graph = false;
  int retain_graph = -1;  // -1: same as create_graph
  bool allow_unused = false;
};
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {}, GradOptions options = {});

}  // namespace sg
