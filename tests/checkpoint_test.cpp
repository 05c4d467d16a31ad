#include "relutope/checkpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "relutope/error.h"
#include "relutope/random_network.h"
#include "support/data_path.h"

namespace {

using relutope::Checkpoint;
using relutope::InputError;
using testing::HasSubstr;
using testing::ThrowsMessage;

Checkpoint example() {
  Checkpoint c;
  c.identity = {{"command", "count"}, {"model", "0123456789abcdef"}, {"tolerance", "1e-09"}};
  c.state.min_tasks = 64;
  c.state.num_tasks = 70;
  c.state.done[0] = {10, 1, 2, 3, 4};
  c.state.done[5] = {7, 0, 0, 0, 0};
  c.output_bytes = 12345;
  return c;
}

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

// The checksum line of save_checkpoint for `body` (FNV-1a, 64 bits), to forge well-formed files.
std::string with_checksum(const std::string& body) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : body) hash = (hash ^ c) * 0x100000001b3ULL;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
  return body + "\nfnv1a64 " + hex + "\n";
}

TEST(Checkpoint, SavedAndLoadedAlike) {
  const std::string path = temp_path("saved.ckpt");
  relutope::save_checkpoint(path, example());
  const Checkpoint c = relutope::load_checkpoint(path);
  EXPECT_EQ(c.identity, example().identity);
  EXPECT_EQ(c.state.min_tasks, 64);
  EXPECT_EQ(c.state.num_tasks, 70u);
  ASSERT_EQ(c.state.done.size(), 2u);
  EXPECT_EQ(c.state.done.at(0).num_regions, 10u);
  EXPECT_EQ(c.state.done.at(0).num_lp_fallbacks, 4u);
  EXPECT_EQ(c.state.done.at(5).num_regions, 7u);
  EXPECT_EQ(c.output_bytes, 12345u);
  std::ifstream temp(path + ".tmp");
  EXPECT_FALSE(temp.good()) << "the temporary file was renamed";
}

TEST(Checkpoint, ATruncatedFileIsRefused) {
  const std::string path = temp_path("truncated.ckpt");
  relutope::save_checkpoint(path, example());
  const std::string whole = read(path);
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, whole.size() / 2, whole.size() - 2, whole.size() - 1}) {
    write(path, whole.substr(0, size));
    EXPECT_THAT([&] { relutope::load_checkpoint(path); },
                ThrowsMessage<InputError>(HasSubstr("truncated.ckpt: not a usable checkpoint: it is truncated")))
        << size << " of " << whole.size() << " bytes";
  }
}

TEST(Checkpoint, AChangedByteIsRefused) {
  const std::string path = temp_path("corrupted.ckpt");
  relutope::save_checkpoint(path, example());
  std::string text = read(path);
  text[text.find("[5,7,")+3] = '8';  // task 5 had 7 regions; now 8
  write(path, text);
  EXPECT_THAT([&] { relutope::load_checkpoint(path); },
              ThrowsMessage<InputError>(HasSubstr("truncated or corrupted: the checksum")));
}

TEST(Checkpoint, UnknownMissingOrMalformedKeysAreRefused) {
  const std::string path = temp_path("keys.ckpt");
  const std::string head = R"({"format":"relutope checkpoint","version":1,"identity":{"model":"x"},)";
  const std::pair<std::string, std::string> cases[] = {
      {head + R"("min_tasks":1,"num_tasks":3,"output_bytes":0,"done":[],"colour":1})", "unknown key \"colour\""},
      {head + R"("min_tasks":1,"num_tasks":3,"done":[]})", "missing key \"output_bytes\""},
      {head + R"("min_tasks":1,"num_tasks":3,"output_bytes":-1,"done":[]})", "output_bytes: expected a whole number"},
      {head + R"("min_tasks":1,"num_tasks":3,"output_bytes":0,"done":[[3,1,0,0,0,0]]})", "done[0]: task 3 of 3"},
      {head + R"("min_tasks":1,"num_tasks":3,"output_bytes":0,"done":[[1,1,0,0,0,0],[1,1,0,0,0,0]]})",
       "done[1]: task 1 is not after"},
      {head + R"("min_tasks":1,"num_tasks":3,"output_bytes":0,"done":[[1,1,0]]})", "done[0]: expected [task, regions"},
      {R"({"format":"relutope checkpoint","version":2,"identity":{},"min_tasks":1,"num_tasks":3,"output_bytes":0,"done":[]})",
       "version: expected 1, got 2"},
      {R"({"format":"other","version":1,"identity":{},"min_tasks":1,"num_tasks":3,"output_bytes":0,"done":[]})",
       "format: expected \"relutope checkpoint\""},
  };
  for (const auto& [body, message] : cases) {
    write(path, with_checksum(body));
    EXPECT_THAT([&] { relutope::load_checkpoint(path); }, ThrowsMessage<InputError>(HasSubstr(message))) << body;
  }
  write(path, with_checksum(head + R"("min_tasks":1,"num_tasks":3,"output_bytes":0,"done":[]})"));
  EXPECT_NO_THROW(relutope::load_checkpoint(path)) << "the forged files differ from a good one in the defect alone";
}

TEST(Checkpoint, AnotherRunIsRefusedNamingEveryDifference) {
  const Checkpoint saved = example();
  relutope::RunIdentity now = saved.identity;
  EXPECT_NO_THROW(relutope::check_same_run("x.ckpt", saved, now));
  now[1].second = "fedcba9876543210";
  now[2].second = "1e-08";
  EXPECT_THAT([&] { relutope::check_same_run("x.ckpt", saved, now); },
              ThrowsMessage<InputError>(HasSubstr("x.ckpt: the checkpoint is of another run (2 differences); resume with "
                                                  "the same model, domain and options:\n  model: checkpoint 0123456789abcdef, "
                                                  "this run fedcba9876543210\n  tolerance: checkpoint 1e-09, this run 1e-08")));
}

TEST(Checkpoint, TheFingerprintFollowsTheWeightsNotTheName) {
  relutope::Network a = relutope::random_network(2, {4, 4}, 1, 1);
  relutope::Network b = a;
  b.source = "elsewhere.onnx";
  EXPECT_EQ(relutope::network_fingerprint(a), relutope::network_fingerprint(b));
  b.layers[1].weight(2, 3) = std::nextafter(b.layers[1].weight(2, 3), 10.0);
  EXPECT_NE(relutope::network_fingerprint(a), relutope::network_fingerprint(b));
  b = a;
  b.layers[0].activation = relutope::Activation::kLeakyRelu;
  b.layers[0].negative_slope = Eigen::VectorXd::Constant(1, 0.1);
  EXPECT_NE(relutope::network_fingerprint(a), relutope::network_fingerprint(b));
}

}  // namespace
