// Networks from files: a training checkpoint of this engine (G, D, G_ema with G_kwargs and
// D_kwargs metadata) or a state dict with official key names plus that metadata.
#pragma once
#include <memory>
#include <string>

#include "engine/safetensors.h"
#include "models/networks.h"

namespace sg {

// G_ema when the file has it, else G, else unprefixed keys; on `device`, in eval mode.
std::unique_ptr<Generator> load_generator(const SafetensorsFile& file, Device device);
// D (prefix "D." or none), with its GGDR decoder when the file's D_kwargs has one.
std::unique_ptr<Discriminator> load_discriminator(const SafetensorsFile& file, Device device);

}  // namespace sg
