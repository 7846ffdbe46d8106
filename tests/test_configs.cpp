// Named configurations: derived values and parameter counts against the official figures
// (trainable parameters computed from the official code's shapes; see the reference notes).
#include "models/configs.h"
#include "tests/test_util.h"

using namespace sg;

TEST_CASE("configs: auto derives batch, gamma and EMA as official") {
  TrainingSpec spec = make_training_spec("auto", 256, 3, 0, 1);
  CHECK(spec.batch == 16);
  CHECK(spec.loss.r1_gamma == doctest::Approx(0.8192));
  CHECK(spec.ema_kimg == doctest::Approx(5));
  CHECK(spec.G.mapping.num_layers == 2);
  TrainingSpec eight = make_training_spec("auto", 256, 3, 0, 8);
  CHECK(eight.batch == 64);
  CHECK(eight.loss.r1_gamma == doctest::Approx(0.2048));
  CHECK(make_training_spec("auto", 1024, 3, 0, 1).loss.r1_gamma == doctest::Approx(52.4288));
  CHECK_THROWS_WITH_ALL(make_training_spec("paper128", 128, 3), "unknown --cfg 'paper128'", "paper256");
}

TEST_CASE("configs: parameter counts match the official networks") {
  struct Expected {
    const char* cfg;
    int resolution;
    int64_t g, d;
  };
  // Trainable parameters of the official G and D for these configurations. cifar uses the 'orig'
  // D: the resnet D's 21,507,073 minus its three 512x512 1x1 skip convolutions.
  for (Expected e : {Expected{"stylegan2", 1024, 30370060, 29012513}, Expected{"paper256", 256, 24767458, 24001089},
                     Expected{"auto", 256, 23191522, 24001089}, Expected{"cifar", 32, 19947539, 21507073 - 3 * 512 * 512}}) {
    CAPTURE(std::string(e.cfg));
    TrainingSpec spec = make_training_spec(e.cfg, e.resolution, 3);
    Generator G(spec.G);
    Discriminator D(spec.D);
    MESSAGE(std::string(e.cfg), " at ", e.resolution, ": G ", G.num_parameters(), " parameters, D ", D.num_parameters());
    CHECK(G.num_parameters() == e.g);
    CHECK(D.num_parameters() == e.d);
  }
}
