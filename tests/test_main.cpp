// Test runner: doctest with a closing summary line `tests: N passed, N failed, N skipped`.
// A test that needs a GPU calls SG_REQUIRE_CUDA(), which on a machine without one records a
// visible skip (with the reason) and returns; on a GPU machine it does nothing, so assertions run.
// Options of our own: --fixtures-dir=DIR (default ../shared/fixtures) and --fixtures-only (only
// the test cases tagged "fixtures"); every other option goes to doctest.
#define DOCTEST_CONFIG_IMPLEMENT
#include "tests/test_util.h"

#include <cstring>
#include <iostream>
#include <set>

namespace sg::test {

std::string& fixtures_dir() {
  static std::string dir = "../shared/fixtures";
  return dir;
}

namespace {
std::set<std::string>& skipped_tests() {
  static std::set<std::string> names;
  return names;
}
std::string& current_test() {
  static std::string name;
  return name;
}
}  // namespace

void record_skip(const std::string& reason) {
  if (skipped_tests().insert(current_test()).second)
    std::cout << "SKIPPED: " << current_test() << " (" << reason << ")\n";
}

size_t skipped_count() { return skipped_tests().size(); }
void set_current_test(const char* name) { current_test() = name; }

}  // namespace sg::test

namespace {

// Counts test cases as they finish so the summary can subtract skips from passes.
struct SummaryReporter : doctest::IReporter {
  explicit SummaryReporter(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats&) override {}
  void test_case_start(const doctest::TestCaseData& data) override {
    failed_now = false;
    sg::test::set_current_test(data.m_name);
  }
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats& stats) override {
    if (stats.failure_flags != 0 || stats.numAssertsFailedCurrentTest > 0 || failed_now)
      ++failed;
    else
      ++finished;
  }
  void test_case_exception(const doctest::TestCaseException&) override { failed_now = true; }
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}

  static inline int finished = 0, failed = 0;
  bool failed_now = false;
};
REGISTER_LISTENER("summary", 1, SummaryReporter);

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args;
  bool fixtures_only = false;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--fixtures-dir=", 15) == 0) {
      sg::test::fixtures_dir() = argv[i] + 15;
    } else if (std::strcmp(argv[i], "--fixtures-only") == 0) {
      fixtures_only = true;
    } else {
      args.push_back(argv[i]);
    }
  }
  doctest::Context context(int(args.size()), args.data());
  if (fixtures_only) context.setOption("test-case", "fixtures:*");
  std::cout << "device: " << (sg::cuda_available() ? sg::device_properties().name : sg::cuda_unavailable_reason())
            << "\n";
  int result = context.run();
  if (context.shouldExit()) return result;
  int skipped = int(sg::test::skipped_count());
  int passed = SummaryReporter::finished - skipped;
  std::cout << "tests: " << passed << " passed, " << SummaryReporter::failed << " failed, " << skipped
            << " skipped" << std::endl;
  return SummaryReporter::failed > 0 || result != 0 ? 1 : 0;
}
