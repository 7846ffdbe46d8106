// reflect_pad: mirror padding of images without repeating the edge pixel (torch's mode='reflect':
// [a b c d] padded by 2 on the left is [c b a b c d]). Built from index_select along W and then
// H, so it runs on every device and dtype index_select supports and its gradient (index_add)
// works to any order, which R1 through the augmentation pipe needs.
#pragma once
#include "engine/op_args.h"
#include "engine/tensor.h"

namespace sg {

// x [N, C, H, W]; padding [x0, x1, y0, y1], each in [0, size - 1] of its axis.
// -> [N, C, H + y0 + y1, W + x0 + x1].
Tensor reflect_pad(const Tensor& x, Pad4 padding);

}  // namespace sg
