#include "models/network_file.h"

#include <nlohmann/json.hpp>

namespace sg {

namespace {

nlohmann::json kwargs(const SafetensorsFile& file, const std::string& key) {
  auto it = file.metadata.find(key);
  SG_CHECK(it != file.metadata.end(), file.path, " has no ", key, " metadata: not a network file of this engine");
  return nlohmann::json::parse(it->second);
}

void load_state(Module& module, const SafetensorsFile& file, const std::string& prefix, Device device) {
  std::map<std::string, Tensor> state;
  for (auto& [name, t] : module.named_state()) state[name] = file.at(prefix + name);
  module.load_state_dict(state);
  module.to(device);
  module.eval();
}

}  // namespace

std::unique_ptr<Generator> load_generator(const SafetensorsFile& file, Device device) {
  auto G = std::make_unique<Generator>(GeneratorConfig::from_json(kwargs(file, "G_kwargs")));
  std::string prefix = file.has("G_ema.mapping.fc0.weight") ? "G_ema." : (file.has("G.mapping.fc0.weight") ? "G." : "");
  load_state(*G, file, prefix, device);
  return G;
}

std::unique_ptr<Discriminator> load_discriminator(const SafetensorsFile& file, Device device) {
  auto D = std::make_unique<Discriminator>(DiscriminatorConfig::from_json(kwargs(file, "D_kwargs")));
  std::string prefix = file.has("D.b4.out.weight") ? "D." : "";
  load_state(*D, file, prefix, device);
  return D;
}

}  // namespace sg
