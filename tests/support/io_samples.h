#pragma once
#include <gtest/gtest.h>

#include <Eigen/Core>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

// The samples of a `<stem>.io.txt` file: "# inputs <n> outputs <m>", then per line n inputs and m outputs.
struct IoSamples {
  int input_dim = 0;
  int output_dim = 0;
  std::vector<Eigen::VectorXd> inputs;
  std::vector<Eigen::VectorXd> outputs;
};

inline IoSamples read_io(const std::string& path) {
  IoSamples io;
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot open " << path;
  std::string hash, inputs_word, outputs_word;
  in >> hash >> inputs_word >> io.input_dim >> outputs_word >> io.output_dim;
  EXPECT_EQ(hash, "#") << path;
  EXPECT_EQ(inputs_word, "inputs") << path;
  EXPECT_EQ(outputs_word, "outputs") << path;
  std::string line;
  std::getline(in, line);  // rest of the header
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::istringstream fields(line);
    Eigen::VectorXd x(io.input_dim), y(io.output_dim);
    for (int i = 0; i < io.input_dim; ++i) fields >> x[i];
    for (int i = 0; i < io.output_dim; ++i) fields >> y[i];
    EXPECT_FALSE(fields.fail()) << path << ": short line \"" << line << "\"";
    io.inputs.push_back(x);
    io.outputs.push_back(y);
  }
  return io;
}
