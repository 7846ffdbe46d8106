#include "autograd/gradcheck.h"

#include <cmath>
#include <iomanip>
#include <sstream>

#include "autograd/autograd.h"

namespace sg {

namespace {

// Flattened values of every output, concatenated.
std::vector<double> flat_outputs(const std::vector<Tensor>& outputs) {
  std::vector<double> all;
  for (const Tensor& out : outputs) {
    std::vector<double> v = out.to_vector();
    all.insert(all.end(), v.begin(), v.end());
  }
  return all;
}

}  // namespace

GradcheckResult gradcheck(const std::string& op_name, const TensorFunction& f, const std::vector<Tensor>& inputs,
                          GradcheckOptions options) {
  std::vector<size_t> checked;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!requires_grad(inputs[i])) continue;
    SG_CHECK(inputs[i].dtype() == DType::Float64 && inputs[i].device() == Device::CPU, "gradcheck(", op_name,
             "): input ", i, " must be float64 on the CPU, got ", inputs[i].describe());
    checked.push_back(i);
  }
  SG_CHECK(!checked.empty(), "gradcheck(", op_name, "): no input requires grad");

  std::vector<Tensor> outputs = f(inputs);
  int64_t total_out = 0;
  for (const Tensor& out : outputs) total_out += out.numel();

  // analytical[c][k * n_in + j] = d out_k / d in_j, one backward per output element.
  std::vector<std::vector<double>> analytical(checked.size());
  for (size_t c = 0; c < checked.size(); ++c) analytical[c].assign(total_out * inputs[checked[c]].numel(), 0.0);
  std::vector<Tensor> targets;
  for (size_t i : checked) targets.push_back(inputs[i]);
  int64_t row = 0;
  for (const Tensor& out : outputs) {
    for (int64_t k = 0; k < out.numel(); ++k, ++row) {
      if (!requires_grad(out)) continue;
      std::vector<double> seed(out.numel(), 0.0);
      seed[k] = 1.0;
      Tensor v = Tensor::from_vector(seed, out.shape(), out.dtype(), out.device());
      GradOptions grad_options;
      grad_options.retain_graph = 1;
      grad_options.allow_unused = true;
      std::vector<Tensor> grads = grad({out}, targets, {v}, grad_options);
      for (size_t c = 0; c < checked.size(); ++c) {
        if (!grads[c].defined()) continue;
        std::vector<double> g = grads[c].to_vector();
        std::copy(g.begin(), g.end(), analytical[c].begin() + row * int64_t(g.size()));
      }
    }
  }

  GradcheckResult result;
  NoGradGuard no_grad;
  for (size_t c = 0; c < checked.size(); ++c) {
    size_t i = checked[c];
    int64_t n_in = inputs[i].numel();
    double worst_excess = 0;
    int64_t worst_in = -1, worst_out = -1;
    double worst_a = 0, worst_n = 0;
    for (int64_t j = 0; j < n_in; ++j) {
      std::vector<double> plus, minus;
      for (double sign : {1.0, -1.0}) {
        Tensor perturbed = raw::clone(inputs[i]);
        perturbed.data<double>()[j] += sign * options.eps;
        std::vector<Tensor> args = inputs;
        args[i] = perturbed;
        (sign > 0 ? plus : minus) = flat_outputs(f(args));
      }
      for (int64_t k = 0; k < total_out; ++k) {
        double numerical = (plus[k] - minus[k]) / (2 * options.eps);
        double a = analytical[c][k * n_in + j];
        double excess = std::fabs(a - numerical) - (options.atol + options.rtol * std::fabs(numerical));
        if (!(excess <= 0) && (worst_in < 0 || excess > worst_excess || std::isnan(excess))) {
          worst_excess = excess;
          worst_in = j;
          worst_out = k;
          worst_a = a;
          worst_n = numerical;
        }
      }
    }
    if (worst_in >= 0) {
      std::ostringstream out;
      out << std::setprecision(12) << "gradcheck(" << op_name << ") failed for input " << i << " "
          << inputs[i].describe() << ": d output[" << worst_out << "] / d input[" << worst_in
          << "]: analytical " << worst_a << ", numerical " << worst_n << " (atol " << options.atol << ", rtol "
          << options.rtol << ")";
      result.ok = false;
      result.message += (result.message.empty() ? "" : "\n") + out.str();
    }
  }
  return result;
}

GradcheckResult gradgradcheck(const std::string& op_name, const TensorFunction& f, const std::vector<Tensor>& inputs,
                              GradcheckOptions options) {
  std::vector<size_t> checked;
  for (size_t i = 0; i < inputs.size(); ++i)
    if (requires_grad(inputs[i])) checked.push_back(i);
  std::vector<Tensor> outputs = f(inputs);

  // Random output gradients: they become inputs of the checked function too.
  std::vector<Tensor> args = inputs;
  uint64_t state = options.seed * 2654435761u + 12345;
  for (const Tensor& out : outputs) {
    std::vector<double> values(out.numel());
    for (double& v : values) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      v = double(state >> 11) / double(1ull << 53) * 2 - 1;
    }
    Tensor v = Tensor::from_vector(values, out.shape(), DType::Float64, Device::CPU);
    set_requires_grad(v);
    args.push_back(v);
  }
  size_t n_inputs = inputs.size();
  TensorFunction backward_of_f = [&](const std::vector<Tensor>& a) {
    // The numerical pass runs without grad mode and with fresh (non-leaf-flagged) copies, yet
    // evaluating this function always needs one backward: enable recording here, and keep the
    // graph of that backward only when the caller records.
    bool outer_records = grad_mode_enabled();
    EnableGradGuard enable(true);
    std::vector<Tensor> xs(a.begin(), a.begin() + n_inputs), vs(a.begin() + n_inputs, a.end());
    for (size_t i : checked)
      if (!requires_grad(xs[i])) set_requires_grad(xs[i]);
    std::vector<Tensor> outs = f(xs), used_outs, used_vs, targets;
    for (size_t o = 0; o < outs.size(); ++o) {
      if (!requires_grad(outs[o])) continue;
      used_outs.push_back(outs[o]);
      used_vs.push_back(vs[o]);
    }
    for (size_t i : checked) targets.push_back(xs[i]);
    std::vector<Tensor> grads;
    if (!used_outs.empty()) {
      GradOptions grad_options;
      grad_options.create_graph = outer_records;
      grad_options.allow_unused = true;
      grads = grad(used_outs, targets, used_vs, grad_options);
    } else {
      grads.resize(targets.size());
    }
    for (size_t c = 0; c < grads.size(); ++c)
      if (!grads[c].defined()) grads[c] = Tensor::zeros(targets[c].shape(), DType::Float64, Device::CPU);
    return grads;
  };
  GradcheckResult result = gradcheck(op_name + " (backward)", backward_of_f, args, options);
  if (!result.ok) result.message = "gradgradcheck: " + result.message;
  return result;
}

}  // namespace sg
