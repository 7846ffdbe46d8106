// Bad input to the engine core, one test per class: each must throw sg::Error (never abort or
// read out of bounds) with a message that names the op, what was expected and what was got.
#include "ops/elementwise/elementwise.h"
#include "ops/matmul/matmul.h"
#include "ops/reduce/reduce.h"
#include "ops/shape/shape.h"
#include "tests/test_util.h"

using namespace sg;

TEST_CASE("errors: shapes that do not broadcast name the op and both shapes") {
  Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({4});
  CHECK_THROWS_WITH_ALL(add(a, b), "add", "[2, 3]", "[4]", "cannot be broadcast");
  CHECK_THROWS_WITH_ALL(sub(a, b), "sub", "[2, 3]", "[4]");
  CHECK_THROWS_WITH_ALL(mul(b, a), "mul", "[4]", "[2, 3]");
  CHECK_THROWS_WITH_ALL(div(a, Tensor::zeros({3, 3})), "div", "[2, 3]", "[3, 3]");
  CHECK_THROWS_WITH_ALL(maximum(a, b), "maximum", "[2, 3]", "[4]");
  CHECK_THROWS_WITH_ALL(minimum(a, b), "minimum", "[2, 3]", "[4]");
  CHECK_THROWS_WITH_ALL(eq(a, b), "eq", "[2, 3]", "[4]");
  CHECK_THROWS_WITH_ALL(where(a, a, b), "where", "[2, 3]", "[4]");
  CHECK_THROWS_WITH_ALL(lerp(a, a, b), "lerp", "[2, 3]", "[4]");
  CHECK_THROWS_WITH_ALL(a.copy_(b), "copy_", "[2, 3]", "[4]");
  CHECK_THROWS_WITH_ALL(cat({a, Tensor::zeros({2, 3, 1})}, 0), "cat", "[2, 3, 1]", "[2, 3]");
  CHECK_THROWS_WITH_ALL(cat({a, Tensor::zeros({3, 2})}, 0), "cat", "[3, 2]", "[2, 3]");
  CHECK_THROWS_WITH_ALL(stack({a, Tensor::zeros({3, 2})}, 0), "stack", "[2, 3]", "[3, 2]");
  CHECK_THROWS_WITH_ALL(sum_to(a, {4}), "sum_to", "[2, 3]", "[4]");
}

TEST_CASE("errors: dtype mismatches and non-floating inputs name the op and the dtypes") {
  Tensor f32 = Tensor::zeros({2}), f64 = Tensor::zeros({2}, DType::Float64), i64 = Tensor::zeros({2}, DType::Int64);
  CHECK_THROWS_WITH_ALL(add(f32, f64), "add", "dtype mismatch", "float32[2]", "float64[2]");
  CHECK_THROWS_WITH_ALL(where(f32, f32, f64), "where", "dtype mismatch");
  CHECK_THROWS_WITH_ALL(matmul(Tensor::zeros({2, 2}), Tensor::zeros({2, 2}, DType::Float16)), "matmul", "float32",
                        "float16");
  CHECK_THROWS_WITH_ALL(cat({f32, f64}, 0), "cat", "float64", "expected float32");
  CHECK_THROWS_WITH_ALL(add(i64, i64), "add", "floating", "int64");
  CHECK_THROWS_WITH_ALL(exp(i64), "exp", "floating", "int64");
  CHECK_THROWS_WITH_ALL(add(i64, 1.0), "add", "floating", "int64");
  CHECK_THROWS_WITH_ALL(sum(i64), "sum", "floating", "int64");
  CHECK_THROWS_WITH_ALL(amax(Tensor::zeros({2}, DType::UInt8)), "amax", "floating", "uint8");
  CHECK_THROWS_WITH_ALL(matmul(Tensor::zeros({2, 2}, DType::Int64), Tensor::zeros({2, 2}, DType::Int64)), "matmul",
                        "floating", "int64");
}

TEST_CASE("errors: device mismatches name the op and both devices") {
  SG_REQUIRE_CUDA();
  Tensor cpu = Tensor::zeros({2, 2}), gpu = Tensor::zeros({2, 2}, DType::Float32, Device::CUDA);
  CHECK_THROWS_WITH_ALL(add(cpu, gpu), "add", "device mismatch", "on cpu", "on cuda");
  CHECK_THROWS_WITH_ALL(where(gpu, cpu, gpu), "where", "device mismatch");
  CHECK_THROWS_WITH_ALL(matmul(cpu, gpu), "matmul", "on cpu", "on cuda");
  CHECK_THROWS_WITH_ALL(cat({gpu, cpu}, 0), "cat", "on cpu", "expected float32 on cuda");
}

TEST_CASE("errors: dims out of range") {
  Tensor x = Tensor::zeros({2, 3});
  CHECK_THROWS_WITH_ALL(sum(x, {2}), "sum", "dim 2 out of range", "2 dims");
  CHECK_THROWS_WITH_ALL(mean(x, {-3}), "mean", "dim -3 out of range");
  CHECK_THROWS_WITH_ALL(amax(x, {0, 0}), "amax", "dim 0 listed twice");
  CHECK_THROWS_WITH_ALL(x.size(2), "size", "dim 2 out of range");
  CHECK_THROWS_WITH_ALL(permute(x, {0, 0}), "permute", "repeated");
  CHECK_THROWS_WITH_ALL(permute(x, {0}), "permute", "1 dims", "2 dims");
  CHECK_THROWS_WITH_ALL(permute(x, {0, 2}), "permute", "dim 2 out of range");
  CHECK_THROWS_WITH_ALL(transpose(x, 0, 2), "transpose", "out of range");
  CHECK_THROWS_WITH_ALL(narrow(x, 2, 0, 1), "narrow", "out of range");
  CHECK_THROWS_WITH_ALL(narrow(x, 1, 2, 2), "narrow", "[2, 4)", "size 3");
  CHECK_THROWS_WITH_ALL(select(x, 0, 2), "select", "index 2", "size 2");
  CHECK_THROWS_WITH_ALL(unsqueeze(x, 3), "unsqueeze", "out of range");
  CHECK_THROWS_WITH_ALL(squeeze(x, 1), "squeeze", "size 3", "expected 1");
  CHECK_THROWS_WITH_ALL(flatten(x, 1, 0), "flatten", "start_dim 1 after end_dim 0");
  CHECK_THROWS_WITH_ALL(cat({x, x}, 2), "cat", "out of range");
  CHECK_THROWS_WITH_ALL(stack({x, x}, 3), "stack", "out of range");
  CHECK_THROWS_WITH_ALL(flip(x, {-3}), "flip", "out of range");
  CHECK_THROWS_WITH_ALL(index_select(x, 2, Tensor::zeros({1}, DType::Int64)), "index_select", "out of range");
  CHECK_THROWS_WITH_ALL(pad(x, {1, 1, 1, 1, 1, 1}), "pad", "6 values");
  CHECK_THROWS_WITH_ALL(pad(x, {-2, -2}), "pad", "empties dim 1");
  CHECK_THROWS_WITH_ALL(repeat(x, {2}), "repeat", "1 repeats", "2 dims");
  // A 0-d tensor has no dims to index.
  Tensor s = Tensor::scalar(1);
  CHECK_THROWS_WITH_ALL(s.size(0), "size", "out of range");
  CHECK_THROWS_WITH_ALL(select(s, 0, 0), "select", "out of range");
  CHECK_THROWS_WITH_ALL(cat({s, s}, 0), "cat", "out of range");
  CHECK_THROWS_WITH_ALL(sum(s, {1}), "sum", "out of range");
}

TEST_CASE("errors: impossible reshapes and expands") {
  Tensor x = Tensor::zeros({2, 3});
  CHECK_THROWS_WITH_ALL(reshape(x, {4, -1}), "reshape", "[4, -1]", "6 elements");
  CHECK_THROWS_WITH_ALL(reshape(x, {4, 2}), "reshape", "[4, 2]", "invalid for 6 elements");
  CHECK_THROWS_WITH_ALL(reshape(x, {-1, -1}), "reshape", "only one -1");
  CHECK_THROWS_WITH_ALL(reshape(x, {-2, -3}), "reshape", "invalid size");
  CHECK_THROWS_WITH_ALL(reshape(Tensor::zeros({0, 3}), {-1, 0}), "reshape", "cannot infer");
  CHECK_THROWS_WITH_ALL(expand(x, {4, 3}), "expand", "[2, 3]", "[4, 3]");
  CHECK_THROWS_WITH_ALL(expand(x, {3}), "expand", "[2, 3]", "[3]");
  CHECK_THROWS_WITH_ALL(Tensor::from_vector({1, 2, 3}, {2, 2}), "from_vector", "3 values", "[2, 2]");
  CHECK_THROWS_WITH_ALL(Tensor::zeros({2, -1}), "empty", "negative size", "[2, -1]");
}

TEST_CASE("errors: matmul operands that do not fit") {
  Tensor a = Tensor::zeros({2, 3});
  CHECK_THROWS_WITH_ALL(matmul(a, Tensor::zeros({2, 3})), "matmul", "inner dimensions", "[2, 3]");
  CHECK_THROWS_WITH_ALL(matmul(a, Tensor::zeros({4, 5})), "matmul", "inner dimensions", "[2, 3]", "[4, 5]");
  CHECK_THROWS_WITH_ALL(matmul(Tensor::zeros({2, 2, 3}), Tensor::zeros({3, 3, 4})), "matmul", "batch sizes",
                        "[2, 2, 3]", "[3, 3, 4]");
  CHECK_THROWS_WITH_ALL(matmul(a, Tensor::zeros({1, 3, 4})), "matmul", "2-D", "[2, 3]", "[1, 3, 4]");
  CHECK_THROWS_WITH_ALL(matmul(Tensor::zeros({3}), Tensor::zeros({3})), "matmul", "2-D");
  CHECK_THROWS_WITH_ALL(addmm(Tensor::zeros({5}), a, Tensor::zeros({3, 4})), "add", "[2, 4]", "[5]");
}

TEST_CASE("errors: indices out of range and malformed index tensors") {
  Tensor x = Tensor::zeros({2, 3});
  CHECK_THROWS_WITH_ALL(index_select(x, 0, Tensor::from_vector({2}, {1}, DType::Int64)), "index_select", "index 2",
                        "out of range", "size 2");
  CHECK_THROWS_WITH_ALL(index_select(x, 1, Tensor::from_vector({0, -1}, {2}, DType::Int64)), "index_select",
                        "index -1", "size 3");
  CHECK_THROWS_WITH_ALL(index_select(x, 0, Tensor::zeros({1})), "index_select", "1-D int64", "float32[1]");
  CHECK_THROWS_WITH_ALL(index_select(x, 0, Tensor::zeros({1, 1}, DType::Int64)), "index_select", "1-D int64");
  CHECK_THROWS_WITH_ALL(index_add({2, 3}, 0, Tensor::from_vector({5}, {1}, DType::Int64), Tensor::zeros({1, 3})),
                        "index_add", "index 5", "size 2");
  CHECK_THROWS_WITH_ALL(index_add({2, 3}, 0, Tensor::from_vector({1}, {1}, DType::Int64), Tensor::zeros({2, 3})),
                        "index_add", "[2, 3]", "expected [1, 3]");
}

TEST_CASE("errors: backward of a non-scalar needs a grad_output of its shape") {
  Tensor x = set_requires_grad(Tensor::ones({2}));
  Tensor y = mul(x, 2.0);
  CHECK_THROWS_WITH_ALL(backward(y), "backward", "only for scalar outputs", "float32[2]");
  CHECK_THROWS_WITH_ALL(grad({y}, {x}), "grad", "only for scalar outputs", "float32[2]");
  CHECK_THROWS_WITH_ALL(backward(y, Tensor::ones({3})), "backward", "grad_output 0", "[3]", "expected [2]");
  CHECK_THROWS_WITH_ALL(grad({y}, {x}, {Tensor::ones({2}), Tensor::ones({2})}), "grad", "2 grad_outputs", "1 outputs");
  CHECK_THROWS_WITH_ALL(backward(Tensor::ones({})), "backward", "does not require grad");
  CHECK_THROWS_WITH_ALL(grad({sum(y)}, {Tensor::ones({2})}), "grad", "input 0", "does not require grad");
  backward(y, Tensor::ones({2}));  // with a grad_output it works
  CHECK(grad_of(x).to_vector() == std::vector<double>{2, 2});
}

TEST_CASE("errors: requires_grad can be set only on floating leaves") {
  Tensor x = set_requires_grad(Tensor::ones({2}));
  Tensor y = mul(x, 2.0);
  CHECK_THROWS_WITH_ALL(set_requires_grad(y), "set_requires_grad", "only leaf", "detach");
  CHECK_THROWS_WITH_ALL(set_requires_grad(y, false), "set_requires_grad", "only leaf");
  CHECK_THROWS_WITH_ALL(set_requires_grad(Tensor::zeros({2}, DType::Int64)), "set_requires_grad", "floating", "int64");
  Tensor d = y.detach();
  CHECK_FALSE(requires_grad(d));
  set_requires_grad(d);  // a detached copy is a new leaf
  CHECK(is_leaf(d));
}

TEST_CASE("errors: an undefined tensor is reported, never dereferenced") {
  Tensor u, x = Tensor::zeros({2});
  CHECK_THROWS_WITH_ALL(u.dim(), "undefined tensor");
  CHECK_THROWS_WITH_ALL(u.numel(), "undefined tensor");
  CHECK_THROWS_WITH_ALL(u.item(), "undefined tensor");
  CHECK_THROWS_WITH_ALL(u.to_vector(), "undefined tensor");
  CHECK_THROWS_WITH_ALL(add(u, x), "add", "input 0 is undefined");
  CHECK_THROWS_WITH_ALL(mul(x, u), "mul", "input 1 is undefined");
  CHECK_THROWS_WITH_ALL(exp(u), "undefined");
  CHECK_THROWS_WITH_ALL(sum(u), "undefined");
  CHECK_THROWS_WITH_ALL(reshape(u, {1}), "undefined");
  CHECK_THROWS_WITH_ALL(matmul(u, x), "undefined");
  CHECK_THROWS_WITH_ALL(raw::contiguous(u), "undefined");
  CHECK_THROWS_WITH_ALL(x.copy_(u), "undefined");
  CHECK_THROWS_WITH_ALL(set_requires_grad(u), "undefined");
  CHECK(u.describe() == "undefined tensor");
  CHECK_FALSE(requires_grad(u));
}

TEST_CASE("errors: messages carry the source location") {
  std::string message;
  try {
    add(Tensor::zeros({2}), Tensor::zeros({3}));
  } catch (const Error& e) {
    message = e.what();
  }
  CHECK(message.find("[ops/elementwise/elementwise.cpp:") != std::string::npos);
}
