// Finite-difference checks of backward rules, in float64 on the CPU.
// gradcheck compares the Jacobian from backward (one grad() per output element) with central
// differences; gradgradcheck does the same for the function (inputs, v) -> grad(f(inputs), inputs, v)
// built with create_graph, i.e. it checks the backward of the backward.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace sg {

using TensorFunction = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
  uint64_t seed = 0;  // for gradgradcheck's random output gradients
};

struct GradcheckResult {
  bool ok = true;
  std::string message;  // op, input, worst element, analytical vs numerical on failure
};

// Inputs must be float64 CPU tensors; those with requires_grad set are checked.
GradcheckResult gradcheck(const std::string& op_name, const TensorFunction& f, const std::vector<Tensor>& inputs,
                          GradcheckOptions options = {});
GradcheckResult gradgradcheck(const std::string& op_name, const TensorFunction& f, const std::vector<Tensor>& inputs,
                              GradcheckOptions options = {});

}  // namespace sg
